"""Progbar output on terminals and elsewhere, and ProgbarLogger driven as in fit."""

import io
import re

import pytest

from nnlib import callbacks
from nnlib.callbacks import progbar as progbar_module

FINAL = re.compile(r"^100/100 \[={30}\] - \d+s \d+(us|ms|s)/step - loss: \d\.\d{4}\n$")


def drive(bar, steps, clock=None, seconds_per_step=0.0, **values):
    for step in range(1, steps + 1):
        if clock is not None:
            clock.advance(seconds_per_step)
        bar.update(step, [(name, value) for name, value in values.items()])


def test_not_a_terminal_gets_one_final_line_and_no_carriage_return():
    out = io.StringIO()
    drive(callbacks.Progbar(100, file=out, interval=0), 100, loss=0.5)
    text = out.getvalue()
    assert "\r" not in text and "\b" not in text
    assert FINAL.match(text), text


def test_terminal_redraws_in_place(clock, tty):
    bar = callbacks.Progbar(3, file=tty, interval=0)
    drive(bar, 3, clock, 0.5, loss=1.0)
    text = tty.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n") and text.count("\n") == 1
    first = text.split("\r")[1]
    assert first == "1/3 [=========>....................] - ETA: 1s - loss: 1.0000"


def test_keras_look_with_eta_then_elapsed_and_time_per_step(clock, tty):
    bar = callbacks.Progbar(100, file=tty, interval=0)
    values = [("loss", 0.4321), ("accuracy", 0.875)]
    clock.advance(0.1)
    bar.update(1, values)
    clock.advance(11 * 0.035)
    bar.update(12, values)
    assert tty.getvalue().split("\r")[-1] == (
        " 12/100 [==>...........................] - ETA: 3s"
        " - loss: 0.4321 - accuracy: 0.8750"
    )
    clock.advance(88 * 0.02 + 11 * (0.02 - 0.035))  # 20 ms a step overall
    bar.update(100, values)
    assert tty.getvalue().split("\r")[-1] == (
        "100/100 [==============================] - 2s 20ms/step"
        " - loss: 0.4321 - accuracy: 0.8750\n"
    )


def test_shorter_redraw_blanks_the_rest_of_the_line(tty):
    bar = callbacks.Progbar(10, file=tty, interval=0, stateful_metrics=["loss"])
    bar.update(1, [("loss", 123456.0)])
    bar.update(2, [("loss", 1.0)])
    frames = tty.getvalue().split("\r")
    assert frames[1].endswith("loss: 123456.0000")
    assert frames[2].endswith("loss: 1.0000     ")
    assert len(frames[2]) == len(frames[1])


def test_terminal_redraws_at_most_every_interval(clock, tty):
    bar = callbacks.Progbar(100, file=tty, interval=1.0)
    drive(bar, 100, clock, 0.1)  # 10 s in all
    assert tty.getvalue().count("\r") == 11  # the first, one a second, the last


def test_verbose_zero_writes_nothing(tty):
    bar = callbacks.Progbar(5, file=tty, verbose=0)
    drive(bar, 5, loss=1.0)
    assert tty.getvalue() == ""


def test_verbose_two_writes_only_the_final_line(clock, tty):
    bar = callbacks.Progbar(100, file=tty, verbose=2)
    drive(bar, 100, clock, 0.02, loss=0.4321)
    assert tty.getvalue() == "100/100 - 2s - 20ms/step - loss: 0.4321\n"


def test_bad_verbose_is_an_error():
    with pytest.raises(ValueError, match="verbose must be 0, 1 or 2"):
        callbacks.Progbar(5, verbose=3)


def test_values_are_averaged_over_steps_unless_stateful():
    out = io.StringIO()
    bar = callbacks.Progbar(4, file=out, stateful_metrics=["acc"])
    bar.update(1, {"loss": 1.0, "acc": 0.1})
    bar.update(3, {"loss": 4.0, "acc": 0.2})  # covers two steps
    bar.add(1, [("loss", 5.0), ("acc", 0.3)])
    # loss: (1 + 2 * 4 + 5) / 4
    assert out.getvalue().endswith(" - loss: 3.5000 - acc: 0.3000\n")


def test_small_nan_and_text_values():
    out = io.StringIO()
    bar = callbacks.Progbar(1, file=out, stateful_metrics=["lr", "bad"])
    bar.update(1, [("lr", 1e-5), ("bad", float("nan")), ("phase", "warmup")])
    assert out.getvalue().endswith(" - lr: 1.0000e-05 - bad: nan - phase: warmup\n")


def test_array_and_odd_values_do_not_break_the_bar():
    out = io.StringIO()
    bar = callbacks.Progbar(2, file=out)
    bar.update(1, [("per_class", [1.0, 3.0]), ("what", object)])
    bar.update(2, [("per_class", [3.0, 5.0]), ("what", object)])
    assert " - per_class: 3.0000 - what: <class 'object'>" in out.getvalue()


def test_unknown_target_shows_a_count_without_a_bar(clock, tty):
    bar = callbacks.Progbar(None, file=tty, interval=0)
    clock.advance(1.0)
    bar.update(5, [("loss", 1.0)])
    line = tty.getvalue().split("\r")[-1]
    assert line == "      5/Unknown - 1s 200ms/step - loss: 1.0000"
    bar.update(6, finalize=True)
    assert tty.getvalue().endswith("\n") and "[" not in tty.getvalue()


def test_long_epoch_off_terminal_gets_a_line_each_tenth(clock):
    out = io.StringIO()
    bar = callbacks.Progbar(100, file=out)
    drive(bar, 100, clock, 1.0, loss=1.0)  # 100 s: long
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert len(lines) == 10
    assert [line.split("/")[0].strip() for line in lines] == [
        str(10 * k) for k in range(1, 11)
    ]


def test_short_epoch_off_terminal_gets_only_the_final_line(clock):
    out = io.StringIO()
    bar = callbacks.Progbar(100, file=out)
    drive(bar, 100, clock, 0.05, loss=1.0)  # 5 s: under non_tty_interval
    assert len(out.getvalue().splitlines()) == 1


def test_off_terminal_lines_are_also_spaced_in_time(clock):
    out = io.StringIO()
    bar = callbacks.Progbar(1000, file=out)
    drive(bar, 1000, clock, 0.03)  # 30 s: a line every 10 s at most
    assert len(out.getvalue().splitlines()) == 3  # at 10 s, 20 s and the end


def test_unknown_target_off_terminal_writes_every_interval(clock):
    out = io.StringIO()
    bar = callbacks.Progbar(None, file=out)
    drive(bar, 35, clock, 1.0)
    assert [line.split("/")[0].strip() for line in out.getvalue().splitlines()] == [
        "10",
        "20",
        "30",
    ]


def test_stream_without_isatty_is_not_a_terminal():
    class Sink:
        def __init__(self):
            self.parts = []

        def write(self, text):
            self.parts.append(text)

    sink = Sink()
    drive(callbacks.Progbar(3, file=sink, interval=0), 3)
    assert "\r" not in "".join(sink.parts) and len(sink.parts) == 1


def test_durations_format():
    fmt = progbar_module._format_duration
    assert [fmt(5.7), fmt(75), fmt(3700)] == ["5s", "1:15", "1:01:40"]
    per = progbar_module._format_per_unit
    assert [per(2.0, "step"), per(0.02, "step"), per(2e-5, "sample")] == [
        "2s/step",
        "20ms/step",
        "20us/sample",
    ]


def fit_like(logger, epochs, steps, batch_logs, epoch_logs, known_steps=True):
    logger.set_params(
        {"epochs": epochs, "steps": steps if known_steps else None, "verbose": None}
    )
    logger.on_train_begin()
    for epoch in range(epochs):
        logger.on_epoch_begin(epoch)
        for batch in range(steps):
            logger.on_train_batch_end(batch, batch_logs(batch))
        # Validation inside fit draws nothing.
        logger.on_test_begin()
        logger.on_test_batch_end(0, {"loss": 9.0})
        logger.on_test_end({"loss": 9.0})
        logger.on_epoch_end(epoch, epoch_logs)
    logger.on_train_end()


def test_logger_off_terminal_prints_epochs_and_final_lines():
    out = io.StringIO()
    fit_like(
        callbacks.ProgbarLogger(file=out),
        epochs=2,
        steps=5,
        batch_logs=lambda b: {"loss": 1.0 / (b + 1)},
        epoch_logs={"loss": 0.45, "val_loss": 0.5},
    )
    lines = out.getvalue().split("\n")
    assert "\r" not in out.getvalue()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and lines[4] == ""
    assert re.match(
        r"5/5 \[={30}\] - 0s \S+ - loss: 0\.4500 - val_loss: 0\.5000$", lines[1]
    )


def test_logger_shows_batch_logs_as_given(clock, tty):
    clock.step = 1.0  # each clock read is a second later: every update draws
    fit_like(
        callbacks.ProgbarLogger(file=tty),
        epochs=1,
        steps=3,
        batch_logs=lambda b: {"loss": [1.0, 0.5, 0.25][b]},
        epoch_logs={"loss": 0.25},
    )
    frames = tty.getvalue().split("\r")
    assert frames[0] == "Epoch 1/1\n"
    # The fit loop's running averages are shown, not averaged again.
    assert [f.split("loss: ")[1].strip() for f in frames[1:]] == [
        "1.0000",
        "0.5000",
        "0.2500",
        "0.2500",
    ]


def test_logger_unknown_steps_learns_them_from_the_first_epoch(clock, tty):
    clock.step = 1.0
    fit_like(
        callbacks.ProgbarLogger(file=tty),
        epochs=2,
        steps=4,
        batch_logs=lambda b: {"loss": 1.0},
        epoch_logs={"loss": 1.0},
        known_steps=False,
    )
    epochs = tty.getvalue().split("Epoch 2/2\n")
    assert "/Unknown" in epochs[0] and "4/4 [" in epochs[0].split("\r")[-1]
    assert "/Unknown" not in epochs[1] and "2/4 [" in epochs[1]


def test_logger_verbose_two_and_zero():
    out = io.StringIO()
    logger = callbacks.ProgbarLogger(file=out)
    logger.set_params({"epochs": 3, "steps": 2, "verbose": 2})
    fit_like(logger, 3, 2, lambda b: {"loss": 1.0}, {"loss": 1.0})
    lines = out.getvalue().splitlines()
    assert len(lines) == 6 and lines[1].startswith("2/2 - ")

    out = io.StringIO()
    logger = callbacks.ProgbarLogger(verbose=1, file=out)
    logger.set_params({"epochs": 3, "steps": 2, "verbose": 0})
    logger.on_epoch_begin(0)
    logger.on_train_batch_end(0, {"loss": 1.0})
    logger.on_epoch_end(0, {"loss": 1.0})
    assert out.getvalue() == ""


def test_logger_evaluate_and_predict_draw_their_own_bars():
    out = io.StringIO()
    logger = callbacks.ProgbarLogger(file=out)
    logger.set_params({"epochs": 1, "steps": 2, "verbose": 1})
    logger.on_test_begin()
    logger.on_test_batch_end(0, {"loss": 1.0})
    logger.on_test_batch_end(1, {"loss": 0.5})
    logger.on_test_end({"loss": 0.5})
    logger.on_predict_begin()
    logger.on_predict_batch_end(0, {"outputs": [1, 2, 3]})
    logger.on_predict_batch_end(1, {"outputs": [1, 2, 3]})
    logger.on_predict_end()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("2/2 [") and lines[0].endswith("loss: 0.5000")
    assert lines[1].startswith("2/2 [") and "outputs" not in lines[1]


def test_logger_writes_to_stdout_by_default(capsys):
    logger = callbacks.ProgbarLogger()
    fit_like(logger, 1, 2, lambda b: {"loss": 1.0}, {"loss": 1.0})
    out = capsys.readouterr().out
    assert out.startswith("Epoch 1/1\n") and "\r" not in out


def test_callback_list_drives_the_logger_after_user_callbacks():
    out = io.StringIO()
    add_lr = callbacks.LambdaCallback(
        on_epoch_end=lambda e, logs: logs.update(learning_rate=0.01)
    )
    cbs = callbacks.CallbackList(
        [add_lr, callbacks.ProgbarLogger(file=out)], verbose=2, epochs=1, steps=1
    )
    cbs.on_train_begin()
    cbs.on_epoch_begin(0)
    cbs.on_train_batch_end(0, {"loss": 1.0})
    cbs.on_epoch_end(0, {"loss": 1.0})
    cbs.on_train_end()
    assert out.getvalue().splitlines()[1].endswith("learning_rate: 0.0100")
