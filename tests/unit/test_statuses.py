import itertools

from wagate.domain.statuses import Status, Verdict, decide, is_terminal


def test_forward_progress_applies() -> None:
    path = [Status.QUEUED, Status.SENDING, Status.SENT, Status.DELIVERED, Status.READ]
    for old, new in itertools.pairwise(path):
        assert decide(old, new).verdict is Verdict.APPLY


def test_read_is_not_downgraded_by_late_delivered() -> None:
    assert decide(Status.READ, Status.DELIVERED).verdict is Verdict.IGNORE


def test_sent_can_jump_to_read_when_delivered_is_lost() -> None:
    assert decide(Status.SENT, Status.READ).verdict is Verdict.APPLY


def test_terminal_statuses_never_move() -> None:
    for terminal in (Status.FAILED, Status.EXPIRED, Status.CANCELLED):
        for new in Status:
            assert decide(terminal, new).verdict is Verdict.IGNORE
        assert is_terminal(terminal)


def test_cancel_only_from_queued() -> None:
    assert decide(Status.QUEUED, Status.CANCELLED).verdict is Verdict.APPLY
    assert decide(Status.SENDING, Status.CANCELLED).verdict is Verdict.IGNORE
    assert decide(Status.SENT, Status.CANCELLED).verdict is Verdict.IGNORE


def test_unknown_can_be_resolved_by_an_operator() -> None:
    assert decide(Status.UNKNOWN, Status.DELIVERED).verdict is Verdict.APPLY
    assert decide(Status.UNKNOWN, Status.QUEUED).verdict is Verdict.IGNORE
