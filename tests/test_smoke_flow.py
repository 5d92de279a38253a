from helpers import wait_for


def test_take_call_and_state(dispatcher, connect):
    kiosk = connect("kiosk-1")
    counter = connect("quay-1")
    reply = kiosk.request("take", service="CT")
    assert reply["ticket"]["number"] == "A001"
    assert reply["ahead"] == 0
    called = counter.request("next", counter=1, expect=None)
    assert called["ticket"]["number"] == "A001"
    state = wait_for(lambda: (counter.state("state/counter/1") or {}).get("ticket"), what="state")
    assert state["number"] == "A001"
