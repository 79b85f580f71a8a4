//! Reloading `pharos server`'s config: by SIGHUP and by `POST /-/reload`,
//! good configs applied (a new job scraped, a removed one stopped), bad
//! ones refused while the old config keeps running.

#[path = "common/server.rs"]
mod common;

use common::{config, samples, wait_until, Server, Target};

#[test]
fn reload_by_endpoint_and_sighup() {
    let a = Target::serve("metric_a 1\n");
    let b = Target::serve("metric_b 2\n");
    let c = Target::serve("metric_c 3\n");
    let mut s = Server::start(
        Some(&config(&[("a", &a.addr)])),
        &["--web.enable-lifecycle"],
    );
    wait_until("job a scraped", 30, || a.hits() >= 1);

    // A good config by SIGHUP: job b appears.
    s.write_config(&config(&[("a", &a.addr), ("b", &b.addr)]));
    s.signal("HUP");
    wait_until("job b scraped after SIGHUP", 30, || b.hits() >= 1);
    assert_eq!(
        s.metric("prometheus_config_last_reload_successful"),
        Some(1.0)
    );

    // A bad config by the endpoint: refused with the reason, old jobs go on.
    s.write_config(
        "scrape_configs:\n  - job_name: a\n    scrape_interval: 1s\n    scrape_timeout: 2s\n",
    );
    let (status, body) = s.post("/-/reload");
    assert_eq!(status, 500, "{body}");
    assert!(
        body.starts_with("failed to reload config: ")
            && body.contains("scrape timeout greater than scrape interval"),
        "{body}"
    );
    assert_eq!(
        s.metric("prometheus_config_last_reload_successful"),
        Some(0.0)
    );
    let (ha, hb) = (a.hits(), b.hits());
    wait_until("jobs a and b still scraped", 15, || {
        a.hits() > ha + 1 && b.hits() > hb + 1
    });

    // A bad config by SIGHUP: an unsupported discovery is refused too.
    s.write_config(&format!(
        "{}  - job_name: aws\n    ec2_sd_configs: [{{region: x}}]\n",
        config(&[("a", &a.addr)])
    ));
    s.signal("HUP");
    wait_until("the refusal logged", 15, || {
        s.log().contains("ec2_sd_configs is not supported")
    });
    let hb = b.hits();
    wait_until("job b still scraped", 15, || b.hits() > hb + 1);

    // A good config by the endpoint: b removed, c added.
    s.write_config(&config(&[("a", &a.addr), ("c", &c.addr)]));
    let (status, body) = s.post("/-/reload");
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        s.metric("prometheus_config_last_reload_successful"),
        Some(1.0)
    );
    wait_until("job c scraped", 30, || c.hits() >= 2);
    let hb = b.hits();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert!(b.hits() <= hb + 1, "job b still scraped after its removal");

    let dump = s.stop();
    for (job, metric) in [("a", "metric_a"), ("b", "metric_b"), ("c", "metric_c")] {
        let job_label = format!("job=\"{job}\"");
        assert_eq!(
            samples(&dump, &["__name__=\"up\"", &job_label]).len(),
            1,
            "up of {job}"
        );
        assert_eq!(samples(&dump, &[metric, &job_label]).len(), 1, "{metric}");
    }
    // The removed job's series end with a stale marker, as in Prometheus.
    let nan = f64::NAN.to_bits();
    let b_up = samples(&dump, &["__name__=\"up\"", "job=\"b\""]);
    assert_eq!(b_up[0].1.last().map(|&(_, v)| v), Some(nan), "{b_up:?}");
}
