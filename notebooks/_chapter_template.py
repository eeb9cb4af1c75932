# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # <The paper's title>
#
# **Chapter `<id from the index>`.** Authors. *Title*. Venue, pages. DOI: [10.x/y](https://doi.org/10.x/y)
#
# **The idea.** One paragraph in our own words: the problem, the paper's move, why it should help.

# %% tags=["parameters"]
profile = "smoke"  # "smoke" (CI, CPU, under 60 s) or "full" (the paper's protocol, sized for one GPU)
seed = 0  # base seed; the full profile uses seed, seed+1, ...
device = "auto"  # "auto" picks CUDA when present
data_root = None  # a folder with the paper's real dataset, or None for the offline stand-in
epochs: int | None = None  # chapter knobs: None = the profile's value

# %%
import reprobook as rb

PROFILES = {
    "smoke": dict(epochs=2, n_seeds=1),
    "full": dict(epochs=50, n_seeds=3),
}
run = rb.start("<id>", profile=profile, seed=seed, device=device, data_root=data_root,
               profiles=PROFILES, knobs=dict(epochs=epochs))
cfg = run.cfg

# %% [markdown]
# ## The method
#
# Equations in our notation, then the code that implements them.

# %% [markdown]
# ## The experiment
#
# Which data and what it stands in for; training; evaluation; figures with titles and labelled axes.

# %% [markdown]
# ## Claims

# %%
ledger = rb.Ledger()
# ledger.claim("id", "the claim in our words", paper="number (Table N)", measured={...}, rule=rb.Better(...))
run.finish(ledger)
ledger

# %% [markdown]
# ## Deviations and notes
#
# ## Exercises
#
# 1. ...
#
# ```{admonition} Solution
# :class: dropdown
# ...
# ```
