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
    assert_eq!(out.matches("imported: 100%").count(), 2, "{}", s.transcript());
    assert!(out.contains("name: MikroTik"), "{}", s.transcript());
    assert!(!out.contains("bad command"), "{}", s.transcript());
    let print = s.command("/metarouter print", "[admin@typed-ahead] > ");
    assert_eq!(print.lines().filter(|l| l.contains("16MiB")).count(), 2, "{print}");
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
