from tests.helpers import VIEWER, Api


async def test_owner_accepts_invitation_and_sees_viewer(api: Api) -> None:
    owner = await api.owner("acme", seats=3)
    result = await owner.browser.gql(VIEWER)
    assert result.data["viewer"]["user"]["username"] == "owner"
    assert result.data["viewer"]["tenant"]["seatsUsed"] == 1
