//! The fuzz body (run by `sim/fuzz` under cargo-fuzz and by `cargo test` over generated input):
//!
//! 1. Each line of the input is run through the interpreter against a configuration with some of
//!    everything in it. A line that fails must leave the configuration and the whole board
//!    (guests, disks, network, flash) exactly as they were.
//! 2. The raw bytes are then fed to a [`Shell`] in chunks, with polls in between (line editor,
//!    escape sequences, completion, help, attach, confirmations): nothing may panic.

use mgmt::apply::commit;
use mgmt::cli::exec::Session;
use mgmt::menus::ROOT;
use mgmt::rib_state::RibState;
use mgmt::{Platform, Shell, ShellOptions};

use crate::board::SimBoard;
use crate::driver::Capture;

/// Lines that build the configuration the fuzzer starts from.
pub const SETUP: &[&str] = &[
    "/interface bridge add name=bridge1",
    "/metarouter add name=mr0 memory-size=32",
    "/metarouter add name=mr1 disabled=yes",
    "/metarouter interface add virtual-machine=mr0 dynamic-bridge=bridge1",
    "/metarouter interface add virtual-machine=mr0",
    "/interface bridge port add interface=ether2 bridge=bridge1",
    "/ip address add address=10.0.1.1/24 interface=vif2",
    "/ipv6 address add address=2001:db8::1/64 interface=ether1",
    "/ip route add gateway=10.0.1.2",
    "/user add name=ro group=read",
];

/// A description of everything on the board that a command could change.
fn snapshot(board: &mut SimBoard) -> String {
    let guests: Vec<String> = (0..mgmt::MAX_GUESTS as u8)
        .map(|i| format!("{:?}", board.guest_status(mgmt::GuestId(i))))
        .collect();
    format!(
        "{guests:?} {:?} {:?} {} {} {}",
        board.disks,
        board.network,
        board.network_applies,
        board.flash.steps(),
        board.reboot_requested || board.shutdown_requested
    )
}

/// Runs the setup lines, committing each (as the shell does).
pub fn setup(board: &mut SimBoard) -> (mgmt::config::Config, RibState) {
    let mut config = mgmt::config::Config::new(board.port_count());
    let mut rib = RibState::empty();
    let mut session = Session::new(&ROOT);
    for line in SETUP {
        if let Ok(result) = session.run(line, &config, &rib, board) {
            let _ = commit(&mut config, &mut rib, result.config, true, board);
        }
    }
    (config, rib)
}

/// What the RIB shows of `config`: every route with its flags, next hops and table, with
/// interfaces by name (RIB interface ids depend on the order interfaces were first seen).
fn rib_text(rib: &RibState, config: &mgmt::config::Config) -> String {
    use mgmt::menus::route_view::{dst_text, gateway_text, hop_text};
    rib.rib()
        .routes()
        .map(|v| {
            let hops: Vec<String> = v
                .immediate_gw()
                .iter()
                .map(|h| hop_text(config, rib, h))
                .collect();
            format!(
                "{} {:?} {:?} {} {} {:?}\n",
                dst_text(config, rib, &v),
                v.flags(),
                hops,
                gateway_text(config, rib, &v),
                v.table_name(),
                rib.route_item(v.id()),
            )
        })
        .collect()
}

/// A board for fuzzing: 3 ports, a small flash (2 blocks of 16 KiB).
fn small_board() -> SimBoard {
    SimBoard::with_flash(3, mgmt::MemFlash::new(16 * 1024, 2))
}

/// The board, configuration and RIB after [`SETUP`].
fn prepared() -> (SimBoard, mgmt::config::Config, RibState) {
    let mut board = small_board();
    let (config, rib) = setup(&mut board);
    (board, config, rib)
}

/// The fuzz target body.
pub fn shell_input(data: &[u8]) {
    let (mut board, mut config, mut rib) = prepared();
    let mut session = Session::new(&ROOT);
    let text = String::from_utf8_lossy(data);
    for line in text.split(['\n', '\r']).take(64) {
        let before_config = config.clone();
        let before_board = snapshot(&mut board);
        match session.run(line, &config, &rib, &mut board) {
            Err(_) => {
                assert_eq!(
                    config, before_config,
                    "config changed by failing line {line:?}"
                );
                assert_eq!(
                    snapshot(&mut board),
                    before_board,
                    "board changed by failing line {line:?}"
                );
            }
            Ok(result) => {
                if let mgmt::cli::menu::Outcome::Import { vm } = &result.outcome {
                    board.guest_undefine(vm.slot);
                    continue;
                }
                let before_apply = snapshot(&mut board);
                let before_rib = rib_text(&rib, &config);
                if commit(&mut config, &mut rib, result.config, true, &mut board).is_err() {
                    assert_eq!(
                        config, before_config,
                        "config changed by refused change {line:?}"
                    );
                    assert_eq!(
                        snapshot(&mut board),
                        before_apply,
                        "board changed by refused change {line:?}"
                    );
                    assert_eq!(
                        rib_text(&rib, &config),
                        before_rib,
                        "RIB changed by refused change {line:?}"
                    );
                }
                // The RIB kept in step equals the RIB built from the configuration (link
                // states refreshed as the shell does while it polls).
                rib.refresh_links(&config, &board);
                let built =
                    RibState::build(&config, &board).expect("the live configuration builds");
                assert_eq!(
                    rib_text(&rib, &config),
                    rib_text(&built, &config),
                    "RIB out of step after {line:?}"
                );
            }
        }
        board.now += 100;
        board.tick();
    }

    let mut board = small_board();
    let mut shell = Shell::new(
        &mut board,
        ShellOptions {
            login: data.first() == Some(&b'L'),
            width: 80,
        },
    );
    let mut out = Capture::default();
    for chunk in data.chunks(7) {
        shell.input(chunk, &mut board, &mut out);
        board.now += 50;
        board.tick();
        shell.poll(&mut board, &mut out);
        if board.reboot_requested || board.shutdown_requested || shell.ended() {
            break;
        }
    }
}
