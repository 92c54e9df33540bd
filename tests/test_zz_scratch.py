import time
from tests.browser import *
from tests.journey import Journey
from tests.support import PASSWORD
from axe_playwright_python.base import AXE_SCRIPT, AXE_FILE_PATH

def test_spike(page, live_server, world, api):
    a = Journey(api, world).to("cleared")
    sign_in(page, live_server, world.user("chair").email, PASSWORD)
    opts = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    urls = ["/", f"/reviews/{a.id}", f"/reviews/{a.id}/events/publish", "/accessibility"]*3
    t=time.time()
    for u in urls:
        page.goto(u); page.evaluate(AXE_SCRIPT); page.evaluate("o => axe.run(o)", opts)
    print("evaluate", time.time()-t)
    page.context.add_init_script(path=str(AXE_FILE_PATH))
    t=time.time()
    for u in urls:
        page.goto(u); page.evaluate("o => axe.run(o)", opts)
    print("init script", time.time()-t)
    t=time.time()
    for u in urls:
        page.goto(u)
    print("goto only", time.time()-t)
    t=time.time()
    for u in urls:
        page.goto(u, wait_until="commit")
    print("commit only", time.time()-t)
