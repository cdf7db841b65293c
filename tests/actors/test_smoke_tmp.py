async def test_smoke(client):
    r = await client.get("/nope")
    print(r.status, await r.text())
    assert r.status == 404
