"""Job, QueuedJob, Reference, Limit and the @job decorator: pure value behaviour."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import pytest

from chancy import IsAJob, Job, Limit, QueuedJob, Reference, job
from chancy.errors import ConfigurationError


def send_email(to: str) -> str:
    return f"sent to {to}"


@job(queue="mail", priority=5, max_attempts=3, unique_key="k")
def decorated(to: str) -> str:
    return f"decorated {to}"


WHEN = dt.datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)


def full_job() -> Job:
    return Job(
        func="tests.unit.test_job_values.send_email",
        queue="mail",
        kwargs={"to": "a@example.com", "n": [1, 2]},
        priority=7,
        max_attempts=4,
        scheduled_at=WHEN,
        limits=[Limit(Limit.Type.TIME, 30), Limit(Limit.Type.MEMORY, 1024)],
        unique_key="welcome:a",
        meta={"retry_settings": {"backoff": 2}},
    )


class TestJob:
    def test_defaults(self) -> None:
        before = dt.datetime.now(dt.UTC)
        j = Job(func="m.f")
        after = dt.datetime.now(dt.UTC)
        assert (j.queue, j.kwargs, j.priority, j.max_attempts) == ("default", {}, 0, 1)
        assert (j.limits, j.unique_key, j.meta) == ([], None, {})
        assert before <= j.scheduled_at <= after
        assert j.scheduled_at.tzinfo is not None

    def test_frozen_and_keyword_only(self) -> None:
        j = Job(func="m.f")
        with pytest.raises(dataclasses.FrozenInstanceError):
            j.queue = "x"  # type: ignore[misc]
        with pytest.raises(TypeError):
            Job("m.f")  # type: ignore[misc]

    def test_pack_shape(self) -> None:
        packed = full_job().pack()
        assert packed == {
            "f": "tests.unit.test_job_values.send_email",
            "k": {"to": "a@example.com", "n": [1, 2]},
            "p": 7,
            "a": 4,
            "s": WHEN.timestamp(),
            "l": [{"t": "time", "v": 30}, {"t": "memory", "v": 1024}],
            "u": "welcome:a",
            "q": "mail",
            "m": {"retry_settings": {"backoff": 2}},
        }

    def test_pack_unpack_round_trip(self) -> None:
        original = full_job()
        again = Job.unpack(original.pack())
        assert again == original
        assert again.scheduled_at.tzinfo is not None

    def test_unpack_keeps_the_epoch(self) -> None:
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        assert Job.unpack(Job(func="m.f", scheduled_at=epoch).pack()).scheduled_at == epoch

    def test_unpack_minimal(self) -> None:
        j = Job.unpack({"f": "m.f"})
        assert (j.func, j.queue, j.kwargs, j.priority, j.max_attempts) == (
            "m.f",
            "default",
            {},
            0,
            1,
        )

    def test_with_builders_return_changed_copies(self) -> None:
        base = Job(func="m.f", kwargs={"a": 1}, meta={"x": 1})
        limits = [Limit(Limit.Type.TIME, 5)]
        changed = (
            base.with_priority(3)
            .with_max_attempts(2)
            .with_scheduled_at(WHEN)
            .with_limits(limits)
            .with_kwargs(b=2)
            .with_unique_key("u")
            .with_queue("q")
            .with_meta({"y": 2})
        )
        assert changed == Job(
            func="m.f",
            queue="q",
            kwargs={"b": 2},  # replaced, not merged
            priority=3,
            max_attempts=2,
            scheduled_at=WHEN,
            limits=limits,
            unique_key="u",
            meta={"y": 2},  # replaced, not merged
        )
        assert base.kwargs == {"a": 1} and base.queue == "default" and base.priority == 0

    def test_from_func(self) -> None:
        j = Job.from_func(send_email, queue="mail", kwargs={"to": "x"})
        assert j.func == "tests.unit.test_job_values.send_email"
        assert (j.queue, j.kwargs) == ("mail", {"to": "x"})

    def test_first_limit_of_a_type_wins(self) -> None:
        j = Job(func="m.f", limits=[Limit(Limit.Type.TIME, 1), Limit(Limit.Type.TIME, 2)])
        assert j.limit(Limit.Type.TIME) == Limit(Limit.Type.TIME, 1)
        assert j.limit(Limit.Type.MEMORY) is None


class TestDecorator:
    def test_attaches_a_job_and_keeps_the_function(self) -> None:
        assert decorated("bob") == "decorated bob"
        assert decorated.job == Job(
            func="tests.unit.test_job_values.decorated",
            queue="mail",
            priority=5,
            max_attempts=3,
            unique_key="k",
            scheduled_at=decorated.job.scheduled_at,
        )

    def test_is_a_job_protocol(self) -> None:
        assert isinstance(decorated, IsAJob)
        assert not isinstance(send_email, IsAJob)

    def test_kwargs_on_the_template(self) -> None:
        assert decorated.job.with_kwargs(to="c").kwargs == {"to": "c"}
        assert decorated.job.kwargs == {}


class TestReference:
    def test_equality(self) -> None:
        ident = uuid.uuid4()
        ref = Reference(ident)
        assert ref == Reference(str(ident))
        assert ref == ident
        assert ref == str(ident)
        assert ref != ident.hex  # the dashless form is not the canonical string
        assert ref != Reference(uuid.uuid4())
        assert ref != 42

    def test_hash_and_identifier(self) -> None:
        ident = uuid.uuid4()
        assert isinstance(Reference(str(ident)).identifier, uuid.UUID)
        assert hash(Reference(ident)) == hash(ident)
        assert len({Reference(ident), Reference(str(ident))}) == 1

    def test_repr_and_slots(self) -> None:
        ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
        assert repr(Reference(ident)) == f"<Reference({ident!r})>"
        with pytest.raises(AttributeError):
            Reference(ident).other = 1  # type: ignore[attr-defined]

    def test_invalid_identifier(self) -> None:
        with pytest.raises(ValueError):
            Reference("not-a-uuid")


class TestLimit:
    def test_serialize_round_trip(self) -> None:
        lim = Limit(Limit.Type.MEMORY, 2048)
        assert lim.serialize() == {"t": "memory", "v": 2048}
        assert Limit.deserialize(lim.serialize()) == lim

    def test_string_type_is_coerced(self) -> None:
        assert Limit("time", 3).type_ is Limit.Type.TIME  # type: ignore[arg-type]

    @pytest.mark.parametrize("value", [0, -1, "10"])
    def test_rejects_non_positive_values(self, value: object) -> None:
        with pytest.raises(ConfigurationError, match="Limit value"):
            Limit(Limit.Type.TIME, value)  # type: ignore[arg-type]


class TestQueuedJob:
    def test_unpack_from_row(self) -> None:
        ident = uuid.uuid4()
        row = {
            "id": str(ident),
            "queue": "q",
            "func": "m.f",
            "kwargs": None,
            "limits": [{"t": "time", "v": 2}],
            "meta": {"a": 1},
            "priority": 2,
            "max_attempts": 3,
            "scheduled_at": WHEN,
            "unique_key": None,
            "created_at": WHEN,
            "started_at": None,
            "completed_at": None,
            "attempts": 1,
            "state": "retrying",
            "errors": [{"attempt": 0, "traceback": "boom"}],
        }
        qj = QueuedJob.unpack(row)
        assert qj.id == ident and qj.reference == Reference(ident)
        assert qj.state is QueuedJob.State.RETRYING
        assert qj.kwargs == {} and qj.limits == [Limit(Limit.Type.TIME, 2)]
        assert qj.errors == [{"attempt": 0, "traceback": "boom"}]
        assert isinstance(qj, Job)

    def test_states(self) -> None:
        assert {s.value for s in QueuedJob.State} == {
            "pending",
            "running",
            "failed",
            "retrying",
            "succeeded",
        }
