use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;
use std::sync::Mutex;

use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::op::{Message, MessageType};
use hickory_resolver::proto::rr::rdata::{A, AAAA, CNAME, MX, NS, SRV};
use hickory_resolver::proto::rr::{Name, Record};
use tokio::net::UdpSocket;

use super::*;

/// What the test server answers: records by (lower-case FQDN, type); a
/// name listed with no records answers NOERROR with none; names in
/// `failing` answer SERVFAIL; anything else NXDOMAIN.
#[derive(Default)]
struct Zone {
    records: HashMap<(String, RecordType), Vec<RData>>,
    failing: Vec<String>,
}

type SharedZone = Arc<Mutex<Zone>>;

fn name(s: &str) -> Name {
    Name::from_str(s).unwrap()
}

fn set(zone: &SharedZone, owner: &str, t: RecordType, data: Vec<RData>) {
    zone.lock()
        .unwrap()
        .records
        .insert((owner.to_owned(), t), data);
}

/// A UDP DNS server on 127.0.0.1 answering from `zone`; returns its port.
async fn serve(zone: SharedZone) -> u16 {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = sock.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut buf = [0u8; 4096];
        loop {
            let Ok((n, peer)) = sock.recv_from(&mut buf).await else {
                return;
            };
            let Ok(req) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            let mut resp = Message::new();
            resp.set_id(req.id())
                .set_message_type(MessageType::Response)
                .set_op_code(req.op_code())
                .set_recursion_desired(req.recursion_desired())
                .set_recursion_available(true);
            for q in req.queries() {
                resp.add_query(q.clone());
                let owner = q.name().to_lowercase().to_string();
                let zone = zone.lock().unwrap();
                if zone.failing.contains(&owner) {
                    resp.set_response_code(ResponseCode::ServFail);
                } else if let Some(data) = zone.records.get(&(owner.clone(), q.query_type())) {
                    for d in data {
                        resp.add_answer(Record::from_rdata(q.name().clone(), 60, d.clone()));
                        // Glue, as a real server sends it with NS answers.
                        if let RData::NS(ns) = d {
                            let glue = RData::A(A(Ipv4Addr::new(192, 0, 2, 53)));
                            resp.add_additional(Record::from_rdata(ns.0.clone(), 60, glue));
                        }
                    }
                } else if !zone.records.keys().any(|(o, _)| *o == owner) {
                    resp.set_response_code(ResponseCode::NXDomain);
                }
            }
            let _ = sock.send_to(&resp.to_vec().unwrap(), peer).await;
        }
    });
    port
}

fn resolver(port: u16) -> TokioResolver {
    let servers = NameServerConfigGroup::from_ips_clear(&[Ipv4Addr::LOCALHOST.into()], port, true);
    let cfg = ResolverConfig::from_parts(None, vec![], servers);
    let mut b = TokioResolver::builder_with_config(cfg, TokioConnectionProvider::default());
    let o = b.options_mut();
    o.cache_size = 0;
    o.attempts = 1;
    o.timeout = Duration::from_millis(500);
    b.build()
}

fn discovery(
    names: &[&str],
    t: &str,
    port: u16,
    dns_port: u16,
    stats: &Arc<SdStats>,
) -> DnsDiscovery {
    let cfg = DnsSdConfig {
        names: names.iter().map(|s| s.to_string()).collect(),
        refresh_interval: Duration::from_millis(200),
        record_type: t.to_owned(),
        port,
    };
    DnsDiscovery::new(&cfg, Arc::clone(stats)).with_resolver(resolver(dns_port))
}

async fn first(d: DnsDiscovery) -> Vec<TargetGroup> {
    let (tx, mut rx) = mpsc::channel(1);
    let task = tokio::spawn(Box::new(d).run(tx));
    let got = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    task.abort();
    got
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs)
}

#[tokio::test]
async fn every_record_type_becomes_targets_with_prometheus_labels() {
    let zone = SharedZone::default();
    set(
        &zone,
        "_node._tcp.example.org.",
        RecordType::SRV,
        vec![
            RData::SRV(SRV::new(10, 5, 9100, name("a.example.org."))),
            RData::SRV(SRV::new(10, 5, 9200, name("b.example.org."))),
        ],
    );
    set(
        &zone,
        "web.example.org.",
        RecordType::A,
        vec![
            RData::CNAME(CNAME(name("web.example.org."))),
            RData::A(A(Ipv4Addr::new(192, 0, 2, 1))),
        ],
    );
    set(
        &zone,
        "web.example.org.",
        RecordType::AAAA,
        vec![
            RData::AAAA(AAAA(Ipv6Addr::from_str("2001:db8::1").unwrap())),
            RData::AAAA(AAAA(Ipv6Addr::from_str("::ffff:192.0.2.7").unwrap())),
        ],
    );
    set(
        &zone,
        "example.org.",
        RecordType::MX,
        vec![RData::MX(MX::new(10, name("mail.example.org.")))],
    );
    set(
        &zone,
        "example.org.",
        RecordType::NS,
        vec![RData::NS(NS(name("ns1.example.org.")))],
    );
    let port = serve(Arc::clone(&zone)).await;
    let stats = Arc::new(SdStats::default());

    let srv = first(discovery(
        &["_node._tcp.example.org"],
        "SRV",
        0,
        port,
        &stats,
    ))
    .await;
    assert_eq!(srv.len(), 1);
    assert_eq!(srv[0].source, "_node._tcp.example.org");
    assert_eq!(
        srv[0].targets,
        [
            labels(&[
                ("__address__", "a.example.org:9100"),
                ("__meta_dns_name", "_node._tcp.example.org"),
                ("__meta_dns_srv_record_target", "a.example.org."),
                ("__meta_dns_srv_record_port", "9100"),
            ]),
            labels(&[
                ("__address__", "b.example.org:9200"),
                ("__meta_dns_name", "_node._tcp.example.org"),
                ("__meta_dns_srv_record_target", "b.example.org."),
                ("__meta_dns_srv_record_port", "9200"),
            ]),
        ]
    );

    let a = first(discovery(&["web.example.org"], "A", 80, port, &stats)).await;
    assert_eq!(
        a[0].targets,
        [labels(&[
            ("__address__", "192.0.2.1:80"),
            ("__meta_dns_name", "web.example.org"),
        ])],
        "the CNAME is skipped"
    );

    let aaaa = first(discovery(&["web.example.org"], "aaaa", 80, port, &stats)).await;
    let addrs: Vec<&str> = aaaa[0]
        .targets
        .iter()
        .map(|t| t.get_or_empty("__address__"))
        .collect();
    assert_eq!(addrs, ["[2001:db8::1]:80", "192.0.2.7:80"]);

    let mx = first(discovery(&["example.org"], "MX", 25, port, &stats)).await;
    assert_eq!(
        mx[0].targets,
        [labels(&[
            ("__address__", "mail.example.org:25"),
            ("__meta_dns_name", "example.org"),
            ("__meta_dns_mx_record_target", "mail.example.org."),
        ])]
    );

    let ns = first(discovery(&["example.org"], "NS", 53, port, &stats)).await;
    assert_eq!(
        ns[0].targets.len(),
        1,
        "glue addresses are not targets: {:?}",
        ns[0].targets
    );
    assert_eq!(
        ns[0].targets,
        [labels(&[
            ("__address__", "ns1.example.org:53"),
            ("__meta_dns_name", "example.org"),
            ("__meta_dns_ns_record_target", "ns1.example.org."),
        ])]
    );

    // No such name, or no records of the type: an empty group, not an
    // error.
    let none = first(discovery(
        &["nothing.example.org", "example.org"],
        "A",
        80,
        port,
        &stats,
    ))
    .await;
    assert_eq!(none.len(), 2);
    assert_eq!(none[0].source, "nothing.example.org");
    assert!(none.iter().all(|g| g.targets.is_empty()));
    assert_eq!(SdStats::get(&stats.dns_lookup_failures), 0);
}

#[tokio::test]
async fn follows_changes_and_skips_names_without_an_answer() {
    let zone = SharedZone::default();
    set(
        &zone,
        "a.example.org.",
        RecordType::A,
        vec![RData::A(A(Ipv4Addr::new(192, 0, 2, 1)))],
    );
    set(
        &zone,
        "b.example.org.",
        RecordType::A,
        vec![RData::A(A(Ipv4Addr::new(192, 0, 2, 2)))],
    );
    let port = serve(Arc::clone(&zone)).await;
    let stats = Arc::new(SdStats::default());
    let d = discovery(&["a.example.org", "b.example.org"], "A", 9, port, &stats);
    let (tx, mut rx) = mpsc::channel(1);
    let task = tokio::spawn(Box::new(d).run(tx));
    async fn next(rx: &mut mpsc::Receiver<Vec<TargetGroup>>) -> Vec<TargetGroup> {
        tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .unwrap()
            .unwrap()
    }
    let got = next(&mut rx).await;
    assert_eq!(
        got.iter().map(|g| g.source.as_str()).collect::<Vec<_>>(),
        ["a.example.org", "b.example.org"]
    );

    // b's server fails: b is left out (its consumer keeps its targets), a
    // follows its new address.
    zone.lock()
        .unwrap()
        .failing
        .push("b.example.org.".to_owned());
    set(
        &zone,
        "a.example.org.",
        RecordType::A,
        vec![RData::A(A(Ipv4Addr::new(192, 0, 2, 3)))],
    );
    let got = loop {
        let got = next(&mut rx).await;
        if got.len() == 1 {
            break got;
        }
    };
    assert_eq!(got[0].source, "a.example.org");
    assert_eq!(got[0].targets[0].get_or_empty("__address__"), "192.0.2.3:9");
    assert!(SdStats::get(&stats.dns_lookup_failures) >= 1);
    assert!(SdStats::get(&stats.dns_lookups) >= 4);
    task.abort();
}
