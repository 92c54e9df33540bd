from tests.journey import Journey


def test_the_main_path_reaches_conclusion(api, world):
    j = Journey(api, world).to("concluded")
    assert j.review["state"] == "concluded"
