"""The ASGI application uvicorn serves (with the deadline sweep loop), each worker warmed up first."""
from app.core.warmup import warm_up
from app.main import create_app

application = create_app(run_sweep=True)
warm_up()
