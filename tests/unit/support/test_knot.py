import dns.resolver
from tests.support.knot import zone_text

def test_knot(knot_factory):
    s = knot_factory({"example.test": zone_text("example.test", '@ IN TXT "v=spf1 -all"\nmx IN A 192.0.2.1\n@ IN MX 10 mx')})
    r = s.resolver()
    assert [b"".join(x.strings) for x in r.resolve("example.test", "TXT")] == [b"v=spf1 -all"]
    s.set_records("example.test", "new", "TXT", '"hello"')
    assert [b"".join(x.strings) for x in r.resolve("new.example.test", "TXT")] == [b"hello"]
    try:
        r.resolve("mx.example.test", "TXT"); assert False
    except dns.resolver.NoAnswer:
        pass
