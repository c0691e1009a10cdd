"""Key-management benchmark (issue 3). Run by hand: ``.venv/bin/python benchmarks/keys_bench.py``.

Prints:
  * ``rotate-master`` wall time with 100,000 versions stored (target <= 0.1 s: O(1) in blocks),
    local -> local and local -> AWS KMS (moto) -> Vault Transit (OpenBao dev);
  * ``keys rewrap`` of 100,000 versions on SQLite (target <= 5 s);
  * ``load`` throughput with the keyring under AWS KMS and Vault Transit vs local
    (target: within 10%, i.e. no master-key call per load).

The 100,000 versions are 1,000 blocks x 100 versions, each a real sealed document with its data
key wrapped by the keyring (the save path minus one transaction per save), inserted in bulk so
the set-up takes seconds, not minutes. moto and OpenBao run as local subprocesses
(``tests/servers.py``); without them the KMS/Vault figures are skipped.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from blocks import Registry, Secret, Settings
from blocks.crypto import envelope
from blocks.key_management import KeyManager
from blocks.keys.local import LocalKeyProvider
from blocks.store import keyops


def populate(reg: Registry, blocks: int, versions: int) -> list[str]:
    """``blocks`` Secret blocks with ``versions`` versions each, sealed like ``save`` does."""
    from sqlalchemy import text

    keyring = reg.keyring
    schema = Secret.block_schema()
    now = datetime.now(UTC)
    names = [f"b{i:05d}" for i in range(blocks)]
    block_rows, version_rows = [], []
    for name in names:
        block_id = str(uuid.uuid4())
        block_rows.append({"id": block_id, "s": "secret", "n": name, "v": versions, "t": now})
        for version in range(1, versions + 1):
            document = f'{{"value":"{name}-v{version}"}}'.encode()
            aad = envelope.binding(block_id, "secret", version)
            data_key, blob = envelope.seal(document, aad)
            term, wrapped = keyring.wrap_data_key(data_key, aad)
            version_rows.append({
                "b": block_id, "v": version, "term": term, "k": wrapped, "c": blob,
                "cs": schema["checksum"], "sv": Secret.block_schema_version, "t": now,
            })
    with reg.store.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO block (id, type_slug, name, current_version, created_at, updated_at) "
            "VALUES (:id, :s, :n, :v, :t, :t)"), block_rows)
        conn.execute(text(
            "INSERT INTO block_version (block_id, version, term, wrapped_key, ciphertext, "
            "schema_checksum, schema_version, created_at) "
            "VALUES (:b, :v, :term, :k, :c, :cs, :sv, :t)"), version_rows)
    return names


class Counting:
    """Counts master-key calls of a provider (to show loads make none)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.calls = inner, 0
        self.name, self.key_id, self.endpoint = inner.name, inner.key_id, inner.endpoint

    def wrap(self, plaintext: bytes, context: Any) -> bytes:
        self.calls += 1
        return self.inner.wrap(plaintext, context)  # type: ignore[no-any-return]

    def unwrap(self, wrapped: bytes, context: Any) -> bytes:
        self.calls += 1
        return self.inner.unwrap(wrapped, context)  # type: ignore[no-any-return]

    def check(self) -> None:
        self.inner.check()


def load_rates(registries: dict[str, Registry], names: list[str], rounds: int) -> dict[str, float]:
    """Best loads/s of each registry, measured in interleaved passes so that background load on
    the machine hits every provider alike."""
    for reg in registries.values():
        for name in names:
            reg.load(f"secret/{name}")
    best = dict.fromkeys(registries, 0.0)
    for _ in range(rounds):
        for label, reg in registries.items():
            t0 = time.perf_counter()
            for name in names:
                reg.load(f"secret/{name}")
            best[label] = max(best[label], len(names) / (time.perf_counter() - t0))
    return best


def timed(label: str, fn: object) -> float:
    t0 = time.perf_counter()
    fn()  # type: ignore[operator]
    elapsed = time.perf_counter() - t0
    print(f"{label:<58} {elapsed * 1e3:9.1f} ms")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=100, help="versions per block")
    parser.add_argument("--no-servers", action="store_true", help="skip KMS and Vault figures")
    args = parser.parse_args()
    total = args.blocks * args.versions

    with tempfile.TemporaryDirectory(prefix="blocks-keys-bench-") as tmp:
        home = Path(tmp) / "home"
        settings = Settings(home=home)
        reg = Registry(settings)
        reg.init()
        t0 = time.perf_counter()
        populate(reg, args.blocks, args.versions)
        print(f"set-up: {total:,} versions in {args.blocks:,} blocks "
              f"({time.perf_counter() - t0:.1f} s)")
        keys = KeyManager(reg)

        # rotate-master, local -> local: the keyring has 1 term whatever the number of blocks.
        new_local = LocalKeyProvider(os.urandom(32), source="bench")
        timed(f"rotate-master local -> local ({total:,} versions)",
              lambda: keys.rotate_master(new_local))

        # rewrap: rotate, then move every data key under the new term.
        keys.rotate()
        result = None

        def rewrap() -> None:
            nonlocal result
            result = keys.rewrap()

        elapsed = timed(f"keys rewrap of {total:,} versions (SQLite, batch 1000)", rewrap)
        assert result is not None and result.moved == total, result
        print(f"{'  rewrap rate':<58} {total / elapsed:9,.0f} data keys/s")
        assert keyops.term_usage(reg.store) == {2: total}

        if not args.no_servers:
            bench_remote(keys, local_provider=new_local, total=total, root=Path(tmp))


def bench_remote(keys: KeyManager, *, local_provider: LocalKeyProvider, total: int,
                 root: Path) -> None:
    import boto3
    import hvac

    from blocks.keys.aws_kms import AwsKmsKeyProvider
    from blocks.keys.vault_transit import VaultTransitKeyProvider
    from tests.servers import ServerUnavailable, running, start_moto, start_openbao

    for name, value in {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        os.environ.setdefault(name, value)
    try:
        with running(start_moto) as moto, running(start_openbao) as bao:
            kms = boto3.client("kms", endpoint_url=moto.url)
            key_id = kms.create_key()["KeyMetadata"]["KeyId"]
            root_client = hvac.Client(url=bao.url, token=bao.extra["token"])
            root_client.sys.enable_secrets_engine("transit", path="transit")
            root_client.secrets.transit.create_key(name="bench", key_type="aes256-gcm96")
            providers: dict[str, Any] = {
                "local": local_provider,
                "aws-kms": AwsKmsKeyProvider(key_id, endpoint_url=moto.url),
                "vault-transit": VaultTransitKeyProvider(
                    bao.url, "bench", token=bao.extra["token"]
                ),
            }
            timed(f"rotate-master local -> aws-kms ({total:,} versions)",
                  lambda: keys.rotate_master(providers["aws-kms"]))
            timed(f"rotate-master aws-kms -> vault-transit ({total:,} versions)",
                  lambda: keys.rotate_master(providers["vault-transit"]))
            timed(f"rotate-master vault-transit -> local ({total:,} versions)",
                  lambda: keys.rotate_master(local_provider))

            # Load throughput: the same 1,000 blocks in three registries, one per master key.
            registries, counters = {}, {}
            for label, provider in providers.items():
                home = root / f"load-{label}"
                setup = Registry(Settings(home=home), key_provider=local_provider)
                for i in range(1000):
                    setup.save(Secret(value=f"value-{i}"), f"l{i:04d}")
                KeyManager(setup).rotate_master(provider)
                setup.close()
                counters[label] = Counting(provider)
                registries[label] = Registry(Settings(home=home), key_provider=counters[label])
            names = [f"l{i:04d}" for i in range(1000)]
            rates = load_rates(registries, names, rounds=7)
    except ServerUnavailable as exc:
        print(f"KMS/Vault figures skipped: {exc}")
        return
    for label, rate in rates.items():
        delta = "" if label == "local" else f" ({(rate / rates['local'] - 1) * 100:+.1f}% vs local)"
        print(f"{'load throughput, ' + label:<58} {rate:9,.0f} loads/s{delta}")
        print(f"{'  master-key calls during ' + str(8 * 1000) + ' loads':<58} "
              f"{counters[label].calls:9d}   (keyring unwrapped once)")


if __name__ == "__main__":
    main()
