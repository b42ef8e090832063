"""The programs printed for discrete structure: a label's gather broadcasts over enumeration, in the plate its
latent was drawn in; mixtures print as each library's mixture classes."""

import pytest

import ainative
from tests.frontend.test_discrete import GMM, LISTED, LISTED_HEADER, SAME, SAME_HEADER


@pytest.mark.parametrize("library", ["pyro", "numpyro"])
def test_a_label_gathers_in_the_plate_it_was_drawn_in_without_a_fixed_shape(library):
    source = ainative.model(GMM, header="gmm(lo, hi, a, y)").source(library)
    assert source.count("with _plate_i:") == 2 and '"y_i"' not in source
    # the enumerated z has extra leading axes: the gather is not broadcast to (N,), the plate broadcasts it
    assert "_dist.Normal(mu[(1 + z) - 1], " in source


GENERAL = ("_dist.MixtureGeneral(_dist.Categorical(w), [_dist.Normal(mu_1, sigma_1), "
           "_dist.StudentT(3.0, mu_2, sigma_2)])")


@pytest.mark.parametrize(("library", "listed"), [("pyro", None), ("numpyro", GENERAL)])
def test_mixtures_print_as_the_library_s_mixtures(library, listed):
    same = ainative.model(SAME, header=SAME_HEADER).source(library)
    assert "_dist.MixtureSameFamily(_dist.Categorical(w), _dist.Normal(mu, sigma))" in same
    if listed:
        assert listed in ainative.model(LISTED, header=LISTED_HEADER).source(library)


def test_pyro_stacks_listed_components_of_one_family():
    text = LISTED.replace("StudentT(3, μ₂, σ₂)", "𝒩(μ₂, σ₂)")
    source = ainative.model(text, header=LISTED_HEADER).source("pyro")
    assert ("_dist.MixtureSameFamily(_dist.Categorical(w), _dist.Normal(_torch.stack(_torch.broadcast_tensors("
            "_torch.as_tensor(mu_1), _torch.as_tensor(mu_2)), -1), _torch.stack(_torch.broadcast_tensors("
            "_torch.as_tensor(sigma_1), _torch.as_tensor(sigma_2)), -1)))") in source
