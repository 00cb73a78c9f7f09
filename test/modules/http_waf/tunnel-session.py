# Writes one pcap per tunnel type with the same HTTP attack session inside,
# crafted by scapy (whose GRE, Geneve and IP-in-IP encoders are its own, not
# secuxflow's): argv[1] is the output directory.
import sys
from scapy.all import Ether, IP, IPv6, TCP, Raw, GRE, UDP, wrpcap
from scapy.layers.vxlan import VXLAN
from scapy.contrib.geneve import GENEVE

OUT = sys.argv[1]
REQ = b"GET /search?q=1%27%20OR%20%271%27%3D%271 HTTP/1.1\r\nHost: app.test\r\nUser-Agent: curl/8.5\r\nAccept: */*\r\n\r\n"
RESP = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
VTEP_A, VTEP_B = "192.0.2.1", "192.0.2.2"


def session(ip_c, ip_s):
    c, s = 1000, 5000
    segs = [
        (True, "S", c, 0, b""), (False, "SA", s, c + 1, b""), (True, "A", c + 1, s + 1, b""),
        (True, "PA", c + 1, s + 1, REQ), (False, "A", s + 1, c + 1 + len(REQ), b""),
        (False, "PA", s + 1, c + 1 + len(REQ), RESP), (True, "A", c + 1 + len(REQ), s + 1 + len(RESP), b""),
        (True, "FA", c + 1 + len(REQ), s + 1 + len(RESP), b""), (False, "FA", s + 1 + len(RESP), c + 2 + len(REQ), b""),
        (True, "A", c + 2 + len(REQ), s + 2 + len(RESP), b""),
    ]
    out = []
    for to_server, flags, seq, ack, data in segs:
        ip = ip_c() if to_server else ip_s()
        tcp = TCP(sport=40000 if to_server else 80, dport=80 if to_server else 40000, flags=flags, seq=seq, ack=ack)
        out.append((to_server, ip / tcp / Raw(data) if data else ip / tcp))
    return out


def inner4(): return session(lambda: IP(src="10.0.0.1", dst="10.0.0.2"), lambda: IP(src="10.0.0.2", dst="10.0.0.1"))
def inner6(): return session(lambda: IPv6(src="fd00::1", dst="fd00::2"), lambda: IPv6(src="fd00::2", dst="fd00::1"))


def outer(to_server, **kw):
    a, b = (VTEP_A, VTEP_B) if to_server else (VTEP_B, VTEP_A)
    return Ether() / IP(src=a, dst=b, **kw)


def eth(p): return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / p


def write(name, frames):
    for i, f in enumerate(frames):
        f.time = 1767225600 + i * 0.001
    wrpcap(f"{OUT}/{name}.pcap", frames)


write("gre", [outer(t) / GRE(key_present=1, key=77, seqnum_present=1, sequence_number=i) / p for i, (t, p) in enumerate(inner4())])
write("gretap", [outer(t) / GRE(proto=0x6558) / eth(p) for t, p in inner4()])
write("geneve", [outer(t) / UDP(sport=51000, dport=6081) / GENEVE(vni=99, proto=0x6558) / eth(p) for t, p in inner4()])
write("ipip", [outer(t) / p for t, p in inner4()])
write("sit", [outer(t) / p for t, p in inner6()])
write("vxlan", [outer(t) / UDP(sport=52000, dport=4789) / VXLAN(vni=4242, flags=0x08) / eth(p) for t, p in inner4()])
