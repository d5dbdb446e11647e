"""Week 03 checks, second part: many yes/no labels at once, and the class dimension with ignore_index."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ._core import SHAPE_MARKER, Case, as_tensor, check_function, close, passed
from ._rules import define_rule

MULTI_HOT = define_rule("multi_hot", dtype=torch.float32)
PER_LABEL_BCE = define_rule("per_label_bce", grad=True, atol=1e-5, wrt=(0,))
PREDICT_LABELS = define_rule("predict_labels", dtype=torch.bool)
MASKED_CROSS_ENTROPY = define_rule("masked_cross_entropy", grad=True, atol=1e-5)

_F = torch.nn.functional
SUM_HINT = "your loss is the sum over the batch, not the mean: divide by the number of samples N (or use .mean())"
STABLE_LOG_HINT = ("log(softmax(x)) becomes log(0) = -inf once a probability underflows (large logits); "
                   "use log_softmax, i.e. x - logsumexp(x) with the max subtracted first")


def _double(got) -> torch.Tensor | None:
    g = as_tensor(got)
    return None if g is None else g.double()


SOFTMAX_NOT_SIGMOID = ("softmax makes the labels compete for one unit of probability, but a leaf can show several "
                       "traits at once (or none): give every label its own sigmoid")
INTEGER_TARGETS = ("integer targets: BCEWithLogitsLoss needs float targets of the logits' dtype (torch.float32) — "
                   "build them with torch.zeros(N, C) (a float tensor), or convert with .float()")


def multi_hot_ref(label_sets, n_labels: int) -> torch.Tensor:
    """Week 03: one row per sample, 1.0 for every label in its set: a list of N sets → float32 (N, C)."""
    out = torch.zeros(len(label_sets), n_labels)
    for n, labels in enumerate(label_sets):
        out[n, list(labels)] = 1.0
    return out


def diagnose_multi_hot(got, case: Case, expected) -> str | None:
    """Week 03: name the usual mistakes in building multi-hot targets (integer dtype, class indices, one label)."""
    g = as_tensor(got)
    if g is None:
        return None
    if g.shape == expected.shape and not g.is_floating_point():
        return INTEGER_TARGETS
    if g.dim() == 1 and g.shape[0] == expected.shape[0]:
        return ("that is one class index per sample (single-label); multi-label targets have one column per label, "
                "shape (N, C), with a 1.0 for every label in the sample's set")
    firsts = multi_hot_ref([sorted(s)[:1] for s in case.args[0]], case.args[1])
    if g.shape == expected.shape and close(g, firsts) and not close(firsts, expected):
        return "every label in the set gets a 1.0, not only the first one"
    return None


def per_label_bce_ref(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Week 03: the mean BCE of each label over the batch: logits, targets (N, C) → (C,)."""
    return _F.binary_cross_entropy_with_logits(logits, targets, reduction="none").mean(dim=0)


def diagnose_per_label_bce(got, case: Case, expected) -> str | None:
    """Week 03: name the usual per-label BCE mistakes (softmax, wrong axis, all at once, sum, unstable)."""
    x, y = case.args[0].double(), case.args[1].double()
    n, c = x.shape
    g = _double(got)
    if g is None:
        return None
    per = _F.binary_cross_entropy_with_logits(x, y, reduction="none")
    soft = torch.softmax(x, dim=1)
    if (close(g, _F.cross_entropy(x, y)) or close(g, -(y * torch.log_softmax(x, 1)).mean(0))
            or close(g, _F.binary_cross_entropy(soft, y, reduction="none").mean(0))):
        return SOFTMAX_NOT_SIGMOID
    if g.dim() == 0:
        return ("one number for everything is BCEWithLogitsLoss's default mean; per label, keep the C columns "
                "apart: the mean over the samples, .mean(dim=0)")
    if g.shape == (n,) and n != c or close(g, per.mean(1)):
        return "you averaged over the labels (dim=1), giving one loss per sample; average over the samples, dim=0"
    if close(g, per.sum(0)):
        return "you summed over the samples; per_label_bce is their mean, .mean(dim=0)"
    if not torch.isfinite(g).all():
        return ("sigmoid rounds to exactly 0 or 1 for large logits and log(0) = -inf: use the stable BCE with logits "
                "(exercise 4, or F.binary_cross_entropy_with_logits(..., reduction='none'))")
    if close(g, _F.binary_cross_entropy_with_logits(x, 1 - y, reduction="none").mean(0)):
        return "you swapped y and 1 - y: the log p term belongs to the labels that are present (y = 1)"
    return None


def predict_labels_ref(logits: torch.Tensor, thresholds: torch.Tensor) -> torch.Tensor:
    """Week 03: yes/no per label: sigmoid(logits) >= thresholds, logits (N, C), thresholds (C,) → bool (N, C)."""
    return torch.sigmoid(logits) >= thresholds


def diagnose_predict_labels(got, case: Case, expected) -> str | None:
    """Week 03: name the usual per-label decision mistakes (softmax, argmax, logits vs probabilities, one threshold)."""
    x, t = case.args
    g = as_tensor(got)
    if g is None or g.shape != expected.shape:
        return None
    if g.dtype != torch.bool:
        g = g != 0
    p = torch.sigmoid(x)
    if torch.equal(g, torch.softmax(x, dim=1) >= t):
        return SOFTMAX_NOT_SIGMOID
    if torch.equal(g, _F.one_hot(x.argmax(1), x.shape[1]).bool()):
        return "argmax gives every sample exactly one label; here each label is a yes/no question of its own"
    if torch.equal(g, p > t):
        return "a probability exactly equal to its threshold counts as yes: use >= rather than >"
    if torch.equal(g, x >= t):
        return "you compared the logits with the thresholds; the thresholds are probabilities: apply sigmoid first"
    if torch.equal(g, p >= 0.5) or torch.equal(g, p >= t.mean()):
        return "each label has its own threshold: compare column c with thresholds[c] (broadcasting does it)"
    if x.shape[0] == x.shape[1] and torch.equal(g, p >= t[:, None]):
        return ("thresholds[:, None] lines the thresholds up with the samples; thresholds (C,) already lines up with "
                "the last dim of (N, C), the labels")
    return None


def _multilabel_cases():
    logits = torch.tensor([[2.0, -1.0, 0.5, -3.0], [-0.5, 1.5, 0.4, 2.5], [0.1, -0.2, -1.4, 0.9],
                           [3.0, 2.0, -2.0, 1.0], [-2.0, -2.5, 1.0, 0.3]])
    targets = torch.tensor([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 0.0, 1.0],
                            [1.0, 1.0, 0.0, 1.0], [0.0, 0.0, 1.0, 0.0]])
    big = torch.tensor([[40.0, -40.0, 200.0], [-200.0, 30.0, -30.0]])
    return logits, targets, big


def check_multilabel(multi_hot: Callable, per_label_bce: Callable, predict_labels: Callable) -> None:
    """Week 03: multi-hot targets (N, C), the mean BCE per label (C,), and per-label thresholds → bool (N, C)."""
    logits, targets, big = _multilabel_cases()
    check_function(multi_hot, multi_hot_ref, [
        Case("3 leaves, 4 traits: [{0, 2}, set(), {1, 2, 3}]", ([{0, 2}, set(), {1, 2, 3}], 4)),
        Case("a batch of one leaf with traits {3}, 4 traits", ([{3}], 4)),
        Case("lists instead of sets: [[1, 0], [0]], 2 traits", ([[1, 0], [0]], 2)),
    ], diagnose=diagnose_multi_hot, quiet=True, rule=MULTI_HOT)
    check_function(per_label_bce, per_label_bce_ref, [
        Case("5 leaves, 4 traits", (logits, targets)),
        Case("a batch of one leaf", (logits[:1], targets[:1])),
        Case("4 leaves, 4 traits (as many samples as labels)", (logits[:4], targets[:4])),
        Case("large logits (±30, ±40, ±200): sigmoid rounds to 0 or 1 in float32",
             (big, torch.tensor([[0.0, 1.0, 1.0], [1.0, 1.0, 0.0]]))),
        Case("float64 logits and targets (the result keeps their dtype)", (logits.double(), targets.double())),
    ], diagnose=diagnose_per_label_bce, error_hints={SHAPE_MARKER: "logits and targets are both (N, C)"}, quiet=True,
        rule=PER_LABEL_BCE)
    thresholds = torch.tensor([0.5, 0.3, 0.5, 0.8])
    broadcast_hint = ("thresholds has one entry per label, shape (C,): it lines up with the last dim of the (N, C) "
                      "probabilities by itself — no [:, None] or .view(-1, 1)")
    check_function(predict_labels, predict_labels_ref, [
        Case("5 leaves, thresholds [0.5, 0.3, 0.5, 0.8]", (logits, thresholds)),
        Case("4 leaves (as many samples as labels)", (logits[:4], thresholds)),
        Case("a logit of exactly 0 (probability 0.5) against threshold 0.5",
             (torch.tensor([[0.0, 0.0, 0.0, 0.0]]), thresholds)),
    ], diagnose=diagnose_predict_labels, error_hints={SHAPE_MARKER: broadcast_hint}, quiet=True,
        rule=PREDICT_LABELS)
    passed("multi-label: the targets, the loss per label and the per-label decisions are right")


# --------------------------------------------------------------------------- the class dimension and ignore_index
MASK_HINT = ("target holds ignore_index at padded positions, which is not a class: replace it by a real class "
             "before picking (torch.where(keep, target, 0)), then leave those positions out of the sum and of the count")
#: The same, for a case whose padding is not -100: a fixed -100 in the mask leaves the padding in.
MASK_HINT_OTHER_INDEX = MASK_HINT + "; and build keep from the ignore_index argument, not a fixed -100"


def diagnose_masked_cross_entropy(got, case: Case, expected) -> str | None:
    """Week 03: name the usual mistakes of a cross-entropy over (N, C, L) with padded positions."""
    logits, target = case.args[0].double(), case.args[1]
    ignore = case.kwargs.get("ignore_index", -100)
    g = _double(got)
    if g is None:
        return None
    keep = target != ignore
    safe = torch.where(keep, target, torch.zeros_like(target))
    per = _F.cross_entropy(logits, safe, reduction="none")  # (N, L), padded positions scored as class 0
    masked = torch.where(keep, per, torch.zeros_like(per))
    if g.shape == target.shape:
        return "you returned one loss per position; the loss is their mean over the kept positions (one number)"
    if g.dim() == 0 and not torch.isfinite(g):
        return STABLE_LOG_HINT
    if close(g, masked.sum() / target.numel()):
        return "you divided by all N·L positions; divide by the number of kept positions, keep.sum()"
    if close(g, per.mean()):
        return "the padded positions still count: multiply their losses by the mask (keep) before summing"
    if close(g, (masked.sum(1) / keep.sum(1)).mean()):
        return ("you averaged each sequence first and then the sequences; the mean runs over all kept positions at "
                "once (a longer sequence has more positions, so it counts more)")
    if close(g, masked.sum()):
        return SUM_HINT.replace("the number of samples N", "the number of kept positions")
    if ignore != -100 and close(g, _F.cross_entropy(logits, torch.where(target == ignore, logits.shape[1] - 1,
                                                                         target))):
        return "use the ignore_index argument, not a fixed -100: here the padding is marked with " + str(ignore)
    if close(g, -expected.double()):
        return "the sign is flipped: cross-entropy is MINUS the log-probability of the target"
    return None


def _masked_cases() -> list[Case]:
    g = torch.Generator().manual_seed(303)
    z = torch.randn(2, 3, 5, generator=g) * 2  # 2 proteins, 3 classes (helix, strand, coil), 5 residues
    y = torch.tensor([[0, 0, 2, 1, 1], [2, 1, 0, -100, -100]])
    long_short = torch.randn(3, 3, 6, generator=g)
    y3 = torch.tensor([[1, 0, 2, 2, 1, 0], [0, 1, -100, -100, -100, -100], [2, 2, 2, 1, -100, -100]])
    return [
        Case("2 proteins, 3 classes, 5 residues, no padding", (z, torch.tensor([[0, 0, 2, 1, 1], [2, 1, 0, 1, 2]]))),
        Case("the second protein padded with -100 after 3 residues", (z, y)),
        Case("3 proteins of lengths 6, 2 and 4, padded with -100", (long_short, y3)),
        Case("padding marked with ignore_index=-1", (z, torch.where(y == -100, -1, y)), {"ignore_index": -1}),
        Case("large logits (±100)", (torch.tensor([[[100.0, -100.0], [-100.0, 100.0], [0.0, 0.0]]]),
                                     torch.tensor([[1, 0]]))),
        Case("float64 logits (the result keeps their dtype)", (z.double(), y)),
    ]


def check_masked_cross_entropy(fn: Callable) -> None:
    """Week 03: check ``fn(logits, target, ignore_index=-100)``: (N, C, L), (N, L) → mean over the kept positions."""
    class_dim = ("the classes are dim 1 of (N, C, L): logsumexp over dim=1 gives (N, L), one value per position, "
                 "the shape of target")
    cases = _masked_cases()
    for other_index in (False, True):  # a case padded with another ignore_index gets the hint about it
        mask_hint = MASK_HINT_OTHER_INDEX if other_index else MASK_HINT
        check_function(fn, _F.cross_entropy, [c for c in cases if (c.kwargs.get("ignore_index", -100) != -100)
                                              == other_index],
                       diagnose=diagnose_masked_cross_entropy, quiet=True, rule=MASKED_CROSS_ENTROPY,
                       error_hints={"out of bounds": mask_hint, "out of range": mask_hint, SHAPE_MARKER: class_dim,
                                    "Index tensor must have the same number of dimensions": class_dim})
    passed(f"{MASKED_CROSS_ENTROPY.name}: all {len(cases)} cases match the reference")
