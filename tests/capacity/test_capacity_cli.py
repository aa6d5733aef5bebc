"""`cloudtune capacity --check` validates conf/capacity without starting Spark."""
from cloudtune.cli import main
from tests.capacity.helpers import model, write_capacity


def test_check_prints_each_service_model(tmp_path, capsys):
    folder = write_capacity(tmp_path, {"svc": model(redundancy="n_plus_one", headroom=0.25)})
    assert main(["capacity", "--check", "--capacity-dir", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "1 service models" in out and "svc: c7.large 300/min; n_plus_one, headroom 25%" in out


def test_check_reports_a_bad_model_as_a_one_line_error(tmp_path, capsys):
    folder = write_capacity(tmp_path, {"svc": model(redundency="zone_loss")})
    assert main(["capacity", "--check", "--capacity-dir", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "cloudtune capacity: error:" in err and "Did you mean 'redundancy'?" in err


def test_a_missing_fleet_file_is_named_before_spark_starts(tmp_path, capsys):
    folder = write_capacity(tmp_path, {"svc": model()})
    assert main(["capacity", "--capacity-dir", str(folder), "--fleet", str(tmp_path / "nope.csv")]) == 2
    assert "current fleet file not found" in capsys.readouterr().err
