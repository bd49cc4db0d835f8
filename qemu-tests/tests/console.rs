//! The management console on both machines: type-ahead (input typed while the shell is busy is
//! kept and handled exactly, in order, afterwards).

use std::time::Duration;

use qemu_tests::boards::Board;
use qemu_tests::files::build_store;
use qemu_tests::guests;
use qemu_tests::session::{Session, PROMPT};

const BOOT: Duration = Duration::from_secs(60);

/// Boot `board` with `files` preloaded in its file store, and log in.
fn boot_with_files(board: Board, files: &[std::path::PathBuf], tag: &str) -> Session {
    let dir = std::env::temp_dir().join(format!("mr-console-{}-{tag}", std::process::id()));
    let store = dir.join("files.bin");
    build_store(files, &store).expect("packing the file store");
    let mut s = Session::boot_with(board, |c| c.files = Some(store));
    s.login(BOOT);
    s
}

/// Lines typed (in one burst, as a paste arrives) right after an import command run after the
/// import, exactly as typed: another import, a print, a change.
#[test]
fn malta_lines_typed_during_an_import_run_exactly() {
    let built = guests::build_once().expect("building the guests");
    let mut s = boot_with_files(Board::QemuMalta, &[built.archive("hello")], "import");
    s.send(concat!(
        "/metarouter import-image file-name=hello.tgz\r",
        "/metarouter import-image file-name=hello.tgz\r",
        "/system identity print\r",
        "/system identity set name=typed-ahead\r",
    ));
    let out = s.expect_within("[admin@typed-ahead] > ", Duration::from_secs(60));
    assert_eq!(
        out.matches("imported: 100%").count(),
        2,
        "{}",
        s.transcript()
    );
    assert!(out.contains("name: MikroTik"), "{}", s.transcript());
    assert!(!out.contains("bad command"), "{}", s.transcript());
    let print = s.command("/metarouter print", "[admin@typed-ahead] > ");
    assert_eq!(
        print.lines().filter(|l| l.contains("16MiB")).count(),
        2,
        "{print}"
    );
}

/// On ppce500 too: a login typed during the delay after a wrong password is the next attempt,
/// handled when the delay is over.
#[test]
fn ppce500_login_typed_during_the_delay_is_kept() {
    let mut s = Session::boot(Board::QemuPpce500);
    s.expect_within("Login: ", BOOT);
    s.send("admin\rwrong\radmin\r\r/system identity print\r");
    s.expect("Login failed, incorrect username or password");
    let out = s.expect_within(PROMPT, Duration::from_secs(10));
    assert!(out.contains("Login: "), "{out}");
    let out = s.expect(PROMPT);
    assert!(out.contains("name: MikroTik"), "{}", s.transcript());
}

/// A 5000-character line sent in one burst arrives whole through the UART, the console queue
/// and the editor, and is applied whole; one over the editor's limit is refused.
#[test]
fn malta_long_lines_are_applied_whole_or_refused() {
    let mut s = Session::boot(Board::QemuMalta);
    s.login(BOOT);
    let name = "B".repeat(5000);
    s.send_line(&format!("/system identity set name={name}"));
    let prompt = format!("[admin@{name}] > ");
    s.expect_within(&prompt, Duration::from_secs(30));
    let line = format!(
        "/system identity set name={}",
        "C".repeat(mgmt::shell::editor::MAX_LINE)
    );
    s.send_line(&line);
    let out = s.expect_within(&prompt, Duration::from_secs(60));
    assert!(
        out.contains(&format!(
            "failure: line too long ({} characters",
            line.len()
        )),
        "{}",
        &out[out.len().saturating_sub(300)..]
    );
}

/// `./x run --board qemu-ppce500 --file F`: the file store arrives as the initial RAM disk the
/// device tree names, and `/file print` lists its files.
#[test]
fn ppce500_preloaded_files_are_listed() {
    let built = guests::build_once().expect("building the guests");
    let mut s = Session::boot_with(Board::QemuPpce500, |c| {
        let dir = std::env::temp_dir().join(format!("mr-console-{}-ppc-files", std::process::id()));
        let store = dir.join("files.bin");
        build_store(&[built.archive("hello"), built.archive("bare")], &store)
            .expect("packing the file store");
        c.files = Some(store);
    });
    let banner = s.login(BOOT);
    assert!(banner.contains("files: 2 preloaded"), "{banner}");
    let out = s.command("/file print", PROMPT);
    let names: Vec<&str> = out
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    assert_eq!(names, ["bare.tgz", "hello.tgz"], "{out}");
}

/// A paste into an attached guest console larger than the guest's input ring arrives whole: the
/// shell hands it over as the guest takes it (the `bare` guest echoes everything).
#[test]
fn malta_a_paste_into_a_guest_console_arrives_whole() {
    let built = guests::build_once().expect("building the guests");
    let mut s = boot_with_files(Board::QemuMalta, &[built.archive("bare")], "guest-paste");
    s.command(
        "/metarouter import-image file-name=bare.tgz name=b1",
        PROMPT,
    );
    s.send_line("/metarouter console b1");
    s.expect("[Ctrl-A is the prefix key]");
    s.expect_within("polling around wait)", Duration::from_secs(10));
    let paste: String = (0..3000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    s.send(&format!("{paste}|end"));
    let echoed = s.expect_within("|end", Duration::from_secs(30));
    assert_eq!(
        echoed.trim_start_matches(['\r', '\n']),
        paste,
        "{}",
        s.transcript()
    );
    s.send("\x01q");
    s.expect("Welcome back!");
    s.expect(PROMPT);
}
