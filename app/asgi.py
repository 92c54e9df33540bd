"""The ASGI application uvicorn serves (with the deadline sweep loop)."""
from app.main import create_app

application = create_app(run_sweep=True)
