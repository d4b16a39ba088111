//! The interview driven through a pseudo-terminal, as a person would use it:
//! answer, go back, violate a constraint, fix it, finalize.

#![cfg(unix)]

mod common;

use std::process::Command;

use rexpect::process::WaitStatus;
use rexpect::session::{PtySession, spawn_command};

const TIMEOUT_MS: u64 = 20_000;

fn spawn(args: &[&str], color: bool) -> (tempfile::TempDir, PtySession) {
    let dir = tempfile::tempdir().expect("temp dir");
    let form = common::form_file(&dir);
    let mut cmd = Command::new(common::enumera());
    cmd.args(["form", "preview"]).arg(&form).args(args);
    if color {
        cmd.env_remove("NO_COLOR");
    } else {
        cmd.env("NO_COLOR", "1");
    }
    let p = spawn_command(cmd, Some(TIMEOUT_MS)).expect("spawn enumera in a pty");
    (dir, p)
}

fn exited_ok(p: &mut PtySession) {
    match p.process().wait() {
        Ok(WaitStatus::Exited(_, code)) => assert_eq!(code, 0, "exit code"),
        other => panic!("enumera did not exit normally: {other:?}"),
    }
}

#[test]
fn answer_back_violate_fix_finalize() {
    let (_dir, mut p) = spawn(&[], false);
    p.exp_string("[1/3] 0 of 3 answered").unwrap();
    p.exp_string("How old are you?").unwrap();
    p.exp_string("In full years").unwrap();
    p.send_line("17").unwrap();
    p.exp_string("! Must be 18 to 119").unwrap();
    p.send_line("34").unwrap();
    p.exp_string("Did you go to school?").unwrap();
    p.exp_string("1) Yes").unwrap();
    p.send_line(":b").unwrap();
    p.exp_string("How old are you?").unwrap();
    p.exp_string("Answer: 34").unwrap();
    p.send_line("").unwrap();
    p.exp_string("Did you go to school?").unwrap();
    p.send_line("1").unwrap();
    // The relevant question appears right after its trigger.
    p.exp_string("[3/4]").unwrap();
    p.exp_string("Last grade finished").unwrap();
    p.send_line("5").unwrap();
    p.exp_string("Your name *").unwrap();
    p.send_line(":f").unwrap();
    p.exp_string("Cannot finalize yet: 1 problem(s)").unwrap();
    p.exp_string("Your name: This field is required.").unwrap();
    p.send_line("Ana").unwrap();
    p.exp_string("End of Household.").unwrap();
    p.send_line(":f").unwrap();
    p.exp_string("Finalized.").unwrap();
    p.exp_string("<data id=\"hh\" version=\"3\"><age>34</age><school>yes</school><grade>5</grade><name>Ana</name>")
        .unwrap();
    p.exp_string("<instanceID>uuid:").unwrap();
    p.exp_eof().unwrap();
    exited_ok(&mut p);
}

#[test]
fn language_from_the_command_line_and_at_the_prompt() {
    let (_dir, mut p) = spawn(&["--lang", "pt"], false);
    p.exp_string("Quantos anos tem?").unwrap();
    p.send_line("200").unwrap();
    p.exp_string("! Deve ser entre 18 e 119").unwrap();
    p.send_line(":l en").unwrap();
    p.exp_string("How old are you?").unwrap();
    p.exp_string("! Must be 18 to 119").unwrap();
    p.send_line(":q").unwrap();
    p.exp_string("Not finalized; nothing kept.").unwrap();
    p.exp_eof().unwrap();
    exited_ok(&mut p);
}

#[test]
fn colours_on_a_terminal_unless_no_color() {
    let (_dir, mut p) = spawn(&[], true);
    p.exp_string("\x1b[1mHow old are you?\x1b[0m").unwrap();
    p.send_line("x").unwrap();
    p.exp_string("\x1b[1;31m! \"x\" is not a valid whole number.\x1b[0m").unwrap();
    p.send_line(":q").unwrap();
    p.exp_eof().unwrap();

    let (_dir, mut p) = spawn(&[], false);
    let before = p.exp_string("How old are you?").unwrap();
    p.send_line(":q").unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(!before.contains('\x1b') && !rest.contains('\x1b'), "NO_COLOR: {before:?} {rest:?}");
}
