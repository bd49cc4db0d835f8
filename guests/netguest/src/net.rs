//! The IP side: one smoltcp interface on the guest's first virtual interface, a UDP echo
//! socket (port 7), the ICMP socket `ping` uses and the two TCP sockets of the transfer
//! commands (a listener and a sender). smoltcp itself answers echo requests.

use alloc::vec;

use mr_guest::proto::ipv4::{Dotted, Mac};
use mr_guest::veth::Veth;
use mr_guest::{println, timer};
use smoltcp::iface::{Config, Interface, PollResult, SocketHandle, SocketSet};
use smoltcp::phy::Device;
use smoltcp::socket::{icmp, tcp as tcp_socket, udp};
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr};

use crate::device::VethDevice;
use crate::ping::IDENT;
use crate::tcp::{self, Source};

/// Frames the virtual interface's TX ring holds.
const TX_SLOTS: usize = mr_guest::veth::TX_SLOTS;

/// UDP echo port.
pub const ECHO_PORT: u16 = 7;

/// The guest's IP stack on one interface.
pub struct Net {
    /// Interface id on the veth queue.
    pub id: u16,
    /// Its MAC address.
    pub mac: [u8; 6],
    /// Its address and prefix, if the command line gave one.
    pub address: Option<([u8; 4], u8)>,
    iface: Interface,
    sockets: SocketSet<'static>,
    udp: SocketHandle,
    icmp: SocketHandle,
    tcp_sink: SocketHandle,
    tcp_source: SocketHandle,
}

/// The current time for smoltcp.
pub fn now() -> Instant {
    Instant::from_micros(timer::uptime_us() as i64)
}

/// Poll `iface`: take every received frame, then send while packets leave. smoltcp sends at
/// most one packet per socket in a poll; going on until nothing leaves (at most a TX ring's
/// worth) lets a TCP sender fill the window it has before the guest waits. The in-guest
/// loopback transfer polls the same way.
pub fn poll_fully<D: Device>(iface: &mut Interface, device: &mut D, sockets: &mut SocketSet<'_>) {
    iface.poll(now(), device, sockets);
    for _ in 0..TX_SLOTS {
        if iface.poll_egress(now(), device, sockets) == PollResult::None {
            break;
        }
    }
}

impl Net {
    /// Bring up interface `id` with `mac`; `None` if the MAC is not unicast.
    pub fn new(
        veth: &mut Veth,
        id: u16,
        mac: [u8; 6],
        address: Option<([u8; 4], u8)>,
        gateway: Option<[u8; 4]>,
    ) -> Option<Self> {
        let hw = EthernetAddress(mac);
        if !hw.is_unicast() {
            println!(
                "veth: interface {id} has a non-unicast mac-address {}: ignored",
                Mac(mac)
            );
            return None;
        }
        let mut config = Config::new(HardwareAddress::Ethernet(hw));
        config.random_seed = timer::counter();
        let mut iface = Interface::new(config, &mut VethDevice { veth, id }, now());
        if let Some((a, len)) = address {
            iface.update_ip_addrs(|addrs| {
                let _ = addrs.push(IpCidr::new(IpAddress::v4(a[0], a[1], a[2], a[3]), len));
            });
        }
        if let Some(g) = gateway {
            let _ = iface.routes_mut().add_default_ipv4_route(g.into());
        }
        let mut sockets = SocketSet::new(vec![]);
        let mut udp = udp::Socket::new(
            udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; 8], vec![0; 8192]),
            udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; 8], vec![0; 8192]),
        );
        let _ = udp.bind(ECHO_PORT);
        let udp = sockets.add(udp);
        let icmp = sockets.add(ping_socket());
        let tcp_sink = sockets.add(tcp::socket());
        let tcp_source = sockets.add(tcp::socket());
        Some(Self {
            id,
            mac,
            address,
            iface,
            sockets,
            udp,
            icmp,
            tcp_sink,
            tcp_source,
        })
    }

    /// Process received frames, answer UDP echo, send what is queued.
    pub fn poll(&mut self, veth: &mut Veth) {
        let mut device = VethDevice { veth, id: self.id };
        poll_fully(&mut self.iface, &mut device, &mut self.sockets);
        let socket = self.sockets.get_mut::<udp::Socket>(self.udp);
        let mut echoed = false;
        // Only when a datagram waits: the buffer is not cleared on every poll.
        while socket.can_recv() && socket.can_send() {
            let mut data = [0u8; 1500];
            let Ok((len, meta)) = socket.recv_slice(&mut data) else {
                break;
            };
            let _ = socket.send_slice(&data[..len], meta.endpoint);
            echoed = true;
        }
        if echoed {
            self.iface.poll(now(), &mut device, &mut self.sockets);
        }
    }

    /// Replace the interface's address (`ip A.B.C.D/N` on the console).
    pub fn set_address(&mut self, address: ([u8; 4], u8)) {
        let (a, len) = address;
        self.iface.update_ip_addrs(|addrs| {
            addrs.clear();
            let _ = addrs.push(IpCidr::new(IpAddress::v4(a[0], a[1], a[2], a[3]), len));
        });
        self.address = Some(address);
    }

    /// Replace the default gateway (`gw A.B.C.D` on the console).
    pub fn set_gateway(&mut self, gateway: [u8; 4]) {
        let routes = self.iface.routes_mut();
        routes.remove_default_ipv4_route();
        let _ = routes.add_default_ipv4_route(gateway.into());
        println!("gateway: {}", Dotted(gateway));
    }

    /// A fresh ICMP socket for the next `ping`: requests the last one left queued (to an
    /// address whose MAC never came, which smoltcp keeps at the head of the queue, blocking
    /// every later one) are dropped with the old socket.
    pub fn renew_icmp(&mut self) {
        self.sockets.remove(self.icmp);
        self.icmp = self.sockets.add(ping_socket());
    }

    /// The ICMP socket of `ping`.
    pub fn icmp(&mut self) -> &mut icmp::Socket<'static> {
        self.sockets.get_mut::<icmp::Socket>(self.icmp)
    }

    /// The listening socket of `tcp-listen`.
    pub fn tcp_sink(&mut self) -> &mut tcp_socket::Socket<'static> {
        self.sockets.get_mut(self.tcp_sink)
    }

    /// The sending socket of `tcp-send`.
    pub fn tcp_source(&mut self) -> &mut tcp_socket::Socket<'static> {
        self.sockets.get_mut(self.tcp_source)
    }

    /// Connect the sending socket from `local_port` to `to` and start sending `bytes`.
    pub fn start_source(
        &mut self,
        to: ([u8; 4], u16),
        local_port: u16,
        bytes: u64,
    ) -> Result<Source, tcp_socket::ConnectError> {
        let socket = self.sockets.get_mut::<tcp_socket::Socket>(self.tcp_source);
        socket.abort();
        let [a, b, c, d] = to.0;
        Source::start(
            socket,
            self.iface.context(),
            (IpAddress::v4(a, b, c, d), to.1),
            local_port,
            bytes,
            timer::uptime_us(),
        )
    }

    /// Print the interface and address.
    pub fn show(&self) {
        match self.address {
            Some((a, len)) => println!(
                "interface {} mac-address={} address={}/{}",
                self.id,
                Mac(self.mac),
                Dotted(a),
                len
            ),
            None => println!(
                "interface {} mac-address={} address=none",
                self.id,
                Mac(self.mac)
            ),
        }
    }
}

/// The ICMP socket `ping` uses: echo replies to [`IDENT`].
fn ping_socket() -> icmp::Socket<'static> {
    let mut icmp = icmp::Socket::new(
        icmp::PacketBuffer::new(vec![icmp::PacketMetadata::EMPTY; 8], vec![0; 2048]),
        icmp::PacketBuffer::new(vec![icmp::PacketMetadata::EMPTY; 8], vec![0; 2048]),
    );
    let _ = icmp.bind(icmp::Endpoint::Ident(IDENT));
    icmp
}
