"""One flow source, run twice under a real Prefect server: with Prefect's and prefect-aws's
classes (``DROPIN_SIDE=prefect``) and with ours (``DROPIN_SIDE=blocks``). Only the imports
differ. Prints ``DROPIN_RESULT <json>`` for the test to compare.

Environment: ``DROPIN_SIDE``, ``DROPIN_MOTO_URL``, ``DROPIN_BUCKET``, ``DROPIN_WORK`` (a folder
with ``big.bin`` and ``tree/``), ``PREFECT_API_URL``; ``BLOCKS_HOME`` for our side.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import Any

from prefect import flow, task

if os.environ["DROPIN_SIDE"] == "prefect":
    from prefect.blocks.core import Block
    from prefect.blocks.system import Secret
    from prefect_aws import AwsCredentials, S3Bucket
else:
    from blocks import AwsCredentials, Block, S3Bucket, Secret

WORK = Path(os.environ["DROPIN_WORK"])


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Gauge(Block):
    reading: int


@task
def sync_part() -> dict[str, Any]:
    Secret(value={"zeta": 1, "alpha": {"b": 2, "a": 1}}).save("dropin-json", overwrite=True)
    Secret(value="first").save("dropin-token", overwrite=True)
    token = Secret.load("dropin-token")
    token.value = "second"  # Prefect code edits a loaded block and saves it under its name
    token.save(overwrite=True)
    try:
        Secret.load("dropin-does-not-exist")
        missing = "loaded?!"
    except ValueError:
        missing = "ValueError"
    return {
        "json_keys": list(Secret.load("dropin-json").get().keys()),
        "json_value": Secret.load("dropin-json").get(),
        "overwritten": Secret.load("dropin-token").get(),
        "missing": missing,
    }


@task
async def async_part() -> dict[str, Any]:
    loaded = await Secret.aload("dropin-token")
    awaited = await Secret.load("dropin-json")  # Prefect 3 users write this too
    # Prefect 3 users await save and delete in async code as well (async dispatch there).
    await Secret(value="saved-awaited").save("dropin-async", overwrite=True)
    saved = (await Secret.load("dropin-async")).get()
    again = await Secret.load("dropin-async")
    again.value = "saved-again"
    await again.save(overwrite=True)
    resaved = (await Secret.aload("dropin-async")).get()
    await Secret.delete("dropin-async")
    try:
        await Secret.load("dropin-async")
        after_delete = "loaded?!"
    except ValueError:
        after_delete = "ValueError"
    await Secret(value="via-asave").asave("dropin-asave", overwrite=True)
    asaved = (await Secret.aload("dropin-asave")).get()
    await Secret.adelete("dropin-asave")
    try:
        await Secret.aload("dropin-asave")
        after_adelete = "loaded?!"
    except ValueError:
        after_adelete = "ValueError"
    return {"aload": loaded.get(), "await_load": list(awaited.get().keys()),
            "await_save": saved, "await_save_loaded": resaved, "await_delete": after_delete,
            "asave": asaved, "adelete": after_adelete}


@task
def schema_change() -> dict[str, Any]:
    Gauge(reading=3).save("dropin-gauge", overwrite=True)

    # The type gains a required field after the block was saved: same name, so the same slug
    # (Prefect derives it from the class name, as Blocks does).
    NewGauge = type("Gauge", (Block,), {"__annotations__": {"reading": int, "unit": str},
                                        "__module__": Gauge.__module__})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gauge = NewGauge.load("dropin-gauge", validate=False)
    return {"reading": gauge.reading, "unit": gauge.unit,
            "warned_unit": any("unit" in str(w.message) for w in caught)}


@task
def s3_part() -> dict[str, Any]:
    creds = AwsCredentials(
        aws_access_key_id="testing", aws_secret_access_key="testing-secret",
        region_name="us-east-1",
        aws_client_parameters={"endpoint_url": os.environ["DROPIN_MOTO_URL"]},
    )
    creds.get_s3_client().create_bucket(Bucket=os.environ["DROPIN_BUCKET"])
    creds.save("dropin-creds", overwrite=True)
    S3Bucket(bucket_name=os.environ["DROPIN_BUCKET"], bucket_folder="dropin",
             credentials=AwsCredentials.load("dropin-creds")).save("dropin-bucket",
                                                                    overwrite=True)
    bucket = S3Bucket.load("dropin-bucket")
    big_key = bucket.upload_from_path(WORK / "big.bin", "data/big.bin")
    (WORK / "out").mkdir(exist_ok=True)  # prefect-aws does not create the parent folder
    out = bucket.download_object_to_path("data/big.bin", WORK / "out" / "big.bin")
    folder_key = bucket.upload_from_folder(WORK / "tree", "tree")
    down = bucket.download_folder_to_path("tree", WORK / "tree-down")
    return {
        "big_key": big_key,
        "big_same": sha256(out) == sha256(WORK / "big.bin"),
        "download_is_absolute": out.is_absolute(),
        "folder_key": folder_key,
        "folder_files": sorted(p.relative_to(down).as_posix()
                               for p in down.rglob("*") if p.is_file()),
        "folder_same": all((down / p).read_bytes() == (WORK / "tree" / p).read_bytes()
                           for p in ("a.txt", "sub/b.txt")),
        "listed": sorted(o["Key"] for o in bucket.list_objects("tree")),
    }


@flow(name="dropin")
async def dropin() -> dict[str, Any]:
    return {"sync": sync_part(), "async": await async_part(), "schema": schema_change(),
            "s3": s3_part()}


if __name__ == "__main__":
    import asyncio

    print("DROPIN_RESULT " + json.dumps(asyncio.run(dropin())), flush=True)
