import io, docx, pytest
from tests.rich_review import build_rich_review, generate, download
from app.documents.docx_text import plain_text

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

def test_explore(api, world):
    import time
    t=time.time()
    rich = build_rich_review(api, world)
    print("build", time.time()-t)
    smith = rich.imrs["Smith & Sons Lettings"]
    for who, kind, variant, imr in [("panel_chair","overview_report","restricted",None),("panel_chair","overview_report","publication",None),
        ("panel_chair","executive_summary","publication",None),("panel_chair","action_plan","restricted",None),("chair","decision_letter","restricted",None),
        ("panel_chair","imr","restricted",smith),("panel_chair","imr","restricted",rich.imrs["Example Drug and Alcohol Service"]),("coordinator","imr_commission_letter","restricted",rich.journey.imrs["police"])]:
        t=time.time()
        d = generate(api, who, rich.id, kind, variant, imr)
        b = download(api, who, d["id"]).content
        print(kind, variant, time.time()-t)
        name = f"/tmp/explore/{kind}-{variant}-{imr and imr[:4]}"
        open(name+".docx","wb").write(b)
        doc = docx.Document(io.BytesIO(b))
        with open(name+".txt","w") as f:
            for block in doc.iter_inner_content():
                if hasattr(block, "rows"):
                    for r in block.rows:
                        f.write("  | " + " | ".join(c.text for c in r.cells) + "\n")
                else:
                    f.write(f"[{block.style.name}] {block.text}\n")
            for i, s in enumerate(doc.sections):
                f.write(f"SECTION {i} header={[p.text for p in s.header.paragraphs]} footer={[p.text for p in s.footer.paragraphs]}\n")
