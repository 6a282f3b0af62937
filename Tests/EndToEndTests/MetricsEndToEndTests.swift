import Foundation
import MailServerHarness
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `GET /metrics` of the real binary, scraped as Prometheus would: over TCP on `serve --metrics-listen` and over
/// the admin socket, after a mail went through real Dovecot into a request.
@Suite("Metrics, end to end", .serialized, .timeLimit(.minutes(3)))
struct MetricsEndToEndTests {
    /// One HTTP/1.1 answer: the status code and the body.
    struct Answer {
        var status: Int
        var head: String
        var body: String
    }

    /// `method path` on 127.0.0.1:`port`, with `Connection: close` (RFC 9112 §9.6) so that the answer ends the
    /// connection.
    static func http(_ method: String, _ path: String, port: Int) throws -> Answer {
        let fd: Int32
        do {
            fd = try LoopbackSocket.connect(port: port, timeoutSeconds: 20)
        } catch {
            throw PostdeskTestError("\(error)")
        }
        defer { close(fd) }
        let request = Array(
            "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
        try LoopbackSocket.send(request, to: fd, what: "127.0.0.1:\(port)")
        let answer = try LoopbackSocket.readToEnd(fd, what: "\(method) \(path)")
        let text = String(decoding: answer, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n"), let code = Int(text.split(separator: " ").dropFirst().first ?? "")
        else { throw PostdeskTestError("\(method) \(path): not an HTTP answer: \(text.prefix(200))") }
        let head = String(text[..<split.lowerBound]).lowercased()
        // A body of known length is what a scrape gets; a chunked one would need decoding first.
        #expect(!head.contains("transfer-encoding: chunked"), "\(head)")
        return Answer(status: code, head: head, body: String(text[split.upperBound...]))
    }

    /// The value of one series (`name{labels}` exactly as emitted) in an exposition.
    static func value(_ series: String, in text: String) -> Double? {
        text.split(separator: "\n").lazy.compactMap { line -> Double? in
            guard line.hasPrefix(series + " ") else { return nil }
            return Double(line.dropFirst(series.count + 1))
        }.first
    }

    @Test(
        "a mail through Dovecot shows in /metrics over TCP and on the admin socket: fetch, outcome, latency, channels; no address"
    )
    func scrape() async throws {
        let servers = try await MailServers.shared()
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        let help = "metrics-\(tag)@desk.test"
        let alice = "alice-\(tag)@customer.test"
        try servers.addUser(help, password: "secret")
        let port = try freeLoopbackPort()
        let desk = try PostdeskProcess(extraArguments: ["--metrics-listen", "127.0.0.1:\(port)"])
        try await desk.start()

        let fetched = #"postdesk_mail_fetched_total{protocol="imap",provider="custom"}"#
        let created = #"postdesk_inbound_outcomes_total{outcome="created"}"#
        let idle = #"postdesk_channels{state="idle"}"#
        // The listener may bind a moment after the admin socket answers.
        let fresh = try await desk.eventually("the metrics listener") { try? Self.http("GET", "/metrics", port: port) }
        #expect(fresh.status == 200)
        #expect(fresh.head.contains("content-type: text/plain; version=0.0.4; charset=utf-8"), "\(fresh.head)")
        #expect(Self.value(fetched, in: fresh.body) == 0)
        #expect(Self.value(created, in: fresh.body) == 0)
        #expect(Self.value(idle, in: fresh.body) == 0)
        #expect(
            fresh.body.contains(
                "# HELP postdesk_intake_latency_seconds Seconds from receiving a mail to its request or comment committed.\n"
                    + "# TYPE postdesk_intake_latency_seconds histogram"))

        try desk.createProject("MT", name: "Metrics", signup: "public")
        try desk.ok(
            [
                "channel", "add", "MT", "--address", help, "--host", "127.0.0.1", "--port", "\(servers.imapPort)",
                "--tls", "none", "--request-type", "Help",
            ], stdin: "secret\n")
        try servers.deliver(
            Array(
                "From: \(alice)\r\nTo: \(help)\r\nSubject: Printer\r\nMessage-ID: <m-\(tag)@customer.test>\r\n\r\nJams.\r\n"
                    .utf8), to: help)
        _ = try await desk.eventually("MT-1 in the queue") { try desk.json([QueueRow].self, ["queue", "MT"]).first }

        // The mailbox goes back to IDLE once the mail is flagged.
        let tcp = try await desk.eventually("the channel idle in /metrics") {
            let answer = try Self.http("GET", "/metrics", port: port)
            return Self.value(idle, in: answer.body) == 1 ? answer.body : nil
        }
        let socket = String(decoding: try desk.get("/metrics"), as: UTF8.self)
        for text in [tcp, socket] {
            #expect(Self.value(fetched, in: text) == 1, "\(text)")
            #expect(Self.value(created, in: text) == 1)
            #expect(Self.value("postdesk_intake_latency_seconds_count", in: text) == 1)
            #expect(Self.value(#"postdesk_intake_latency_seconds_bucket{le="+Inf"}"#, in: text) == 1)
            #expect(Self.value(idle, in: text) == 1)
            #expect(Self.value(#"postdesk_channels{state="needs-attention"}"#, in: text) == 0)
            #expect(Self.value(#"postdesk_outbox_notifications{status="pending"}"#, in: text) == 0)
            #expect(Self.value(#"postdesk_mail_fetched_total{protocol="imap",provider="gmail"}"#, in: text) == 0)
            // Bounded labels only: no address, no subject, no channel id.
            #expect(!text.contains("@"))
            #expect(!text.contains(help) && !text.contains(alice))
            #expect(!text.contains("Printer"))
        }

        // The TCP listener serves GET /metrics and nothing else: not the admin API, not another method.
        #expect(try Self.http("GET", "/v1/health", port: port).status == 404)
        #expect(try Self.http("GET", "/v1/projects", port: port).status == 404)
        #expect(try Self.http("POST", "/metrics", port: port).status == 404)

        // SIGTERM stops the metrics listener with the rest of the server.
        try await desk.stop()
        #expect(throws: PostdeskTestError.self) { try Self.http("GET", "/metrics", port: port) }
    }

    @Test("--metrics-listen takes HOST:PORT and refuses anything else before the server starts")
    func refusesBadAddress() throws {
        let desk = try PostdeskProcess()
        for bad in ["9464", "unix:/tmp/metrics.sock", "127.0.0.1:99999", ":9464"] {
            let result = try desk.run(
                ["serve", "--data-dir", desk.dataDirectory.path, "--metrics-listen", bad], socket: false)
            #expect(result.status != 0, "\(bad) was taken")
            #expect(result.err.contains("--metrics-listen"), "\(bad): \(result.err)")
            #expect(result.err.contains("is not HOST:PORT"), "\(bad): \(result.err)")
        }
    }
}
