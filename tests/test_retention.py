from datetime import timedelta

import dagster as dg

from data_platform.retention import purge_old_runs_job, purge_runs


@dg.op
def noop() -> None:
    pass


@dg.job
def tiny_job() -> None:
    noop()


def test_finished_runs_and_their_event_logs_are_purged():
    with dg.instance_for_test() as instance:
        old = tiny_job.execute_in_process(instance=instance).run_id
        assert instance.all_logs(old)
        # Nothing is older than a day yet.
        assert purge_runs(instance, timedelta(days=1)) == 0
        assert instance.get_run_by_id(old) is not None
        # With a zero retention the run and its event log go, the purging run stays.
        result = purge_old_runs_job.execute_in_process(
            instance=instance,
            run_config={"ops": {"purge_old_runs": {"config": {"older_than_days": 0}}}},
        )
        assert result.output_for_node("purge_old_runs") == 1
        assert instance.get_run_by_id(old) is None
        assert instance.all_logs(old) == []
        assert instance.get_run_by_id(result.run_id) is not None
