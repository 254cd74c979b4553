"""The framework's floor for bench/request_overhead.py: FastAPI with one trivial route."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
