//! Login: wrong passwords are refused with a delay that doubles (1 s, 2 s, 4 s, ...), input
//! typed during the delay waits for the next prompt, and the right password gets in.

use sim::driver::{Sim, SimOptions};

fn login_prompts(sim: &Sim) -> usize {
    String::from_utf8_lossy(&sim.out.0)
        .matches("MikroTik Login: ")
        .count()
}

/// Time from a failed attempt until the next login prompt, in ms.
fn fail_once(sim: &mut Sim) -> u64 {
    sim.input(b"admin\r");
    sim.input(b"wrong\r");
    assert!(sim.shell.is_busy());
    let prompts = login_prompts(sim);
    let start = sim.board.now;
    while login_prompts(sim) == prompts {
        sim.advance(10);
        assert!(sim.board.now - start < 60_000, "no prompt after the delay");
    }
    sim.board.now - start
}

#[test]
fn delays_grow() {
    let mut sim = Sim::new(SimOptions {
        login: true,
        ports: 2,
    });
    let delays: Vec<u64> = (0..4).map(|_| fail_once(&mut sim)).collect();
    assert_eq!(delays, [1000, 2000, 4000, 8000]);
    let out = String::from_utf8_lossy(&sim.out.0);
    assert_eq!(
        out.matches("Login failed, incorrect username or password")
            .count(),
        4
    );
    sim.input(b"admin\r\r");
    assert!(String::from_utf8_lossy(&sim.out.0).ends_with("[admin@MikroTik] > "));
    // Success resets the delay.
    sim.input(b"/quit\r");
    assert_eq!(fail_once(&mut sim), 1000);
}

/// What is typed during the delay is not lost: it is the next attempt, handled once the delay
/// is over (so each attempt still waits its turn).
#[test]
fn typeahead_during_the_delay_is_the_next_attempt() {
    let mut sim = Sim::new(SimOptions {
        login: true,
        ports: 2,
    });
    sim.input(b"admin\r");
    sim.input(b"wrong\r");
    assert!(sim.shell.is_busy());
    let start = sim.board.now;
    sim.input(b"admin\r\r");
    assert_eq!(login_prompts(&sim), 1, "no new prompt during the delay");
    while !String::from_utf8_lossy(&sim.out.0).ends_with("[admin@MikroTik] > ") {
        sim.advance(10);
        assert!(sim.board.now - start < 5_000, "typed-ahead login never ran");
    }
    assert!(
        sim.board.now - start >= 1000,
        "the attempt waited for the delay"
    );
    assert_eq!(login_prompts(&sim), 2);
}

#[test]
fn password_is_not_echoed() {
    let mut sim = Sim::new(SimOptions {
        login: true,
        ports: 2,
    });
    sim.input(b"admin\r");
    sim.input(b"\r");
    sim.input(b"/user set admin password=hunter2\r/quit\r");
    sim.input(b"admin\rhunter2\r");
    let out = String::from_utf8_lossy(&sim.out.0).into_owned();
    assert_eq!(
        out.matches("hunter2").count(),
        1,
        "only the set command shows it: {out}"
    );
    assert!(out.ends_with("[admin@MikroTik] > "));
}
