import Foundation
import MailServerHarness
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// "Killing postdesk mid-delivery loses nothing: the MTA retries" (DESIGN.md §7), with the real OpenSMTPD and the
/// real binary. A proxy between OpenSMTPD's LMTP client and `serve --lmtp-listen` holds the first delivery at an
/// exact point, the test SIGKILLs postdesk there and starts it again on the same port, and `smtpctl schedule all`
/// makes OpenSMTPD retry at once instead of after its queue delay.
@Suite("LMTP delivery killed mid-transaction, end to end", .serialized, .timeLimit(.minutes(3)))
struct LMTPKillTests {
    @Test("postdesk SIGKILLed inside DATA: nothing is stored, OpenSMTPD keeps the mail and retries, one request")
    func killedInsideData() async throws {
        try await killAndRetry(holding: .insideData)
    }

    @Test("postdesk SIGKILLed after it committed the mail, before its 250 reached OpenSMTPD: the retry is a duplicate")
    func killedBeforeTheReply() async throws {
        try await killAndRetry(holding: .beforeReply)
    }

    func killAndRetry(holding hold: LMTPHoldingProxy.HoldPoint) async throws {
        let port = try freeLoopbackPort()
        let proxy = try LMTPHoldingProxy(to: port, holding: hold)
        defer { proxy.stop() }
        let servers = try await MailServers.start(
            lmtpRoutes: [LMTPRoute(domain: LMTPDeliveryTests.pushDomain, destination: "127.0.0.1:\(proxy.port)")])
        defer { servers.stop() }
        let desk = try PostdeskProcess(extraArguments: ["--lmtp-listen", "127.0.0.1:\(port)"])
        try await desk.start()
        try desk.createProject("SD", name: "Service Desk", signup: "public", requestType: "Get help")
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        let help = "help-\(tag)@\(LMTPDeliveryTests.pushDomain)"
        let alice = "alice-\(tag)@customer.test"
        try desk.ok(["channel", "add", "SD", "--address", help, "--protocol", "lmtp", "--request-type", "Get help"])

        try await LMTPDeliveryTests.send(
            servers,
            LMTPDeliveryTests.mail(
                from: alice, to: help, subject: "Mid-delivery", messageID: "mid-\(tag)@customer.test"),
            from: alice, to: [help])
        let held = try await desk.eventually("the proxy holding the delivery") { () -> LMTPHoldingProxy.Progress? in
            let progress = proxy.progress
            return progress == .waiting ? nil : progress
        }
        let database = desk.dataDirectory.appendingPathComponent("postdesk.sqlite")
        switch (hold, held) {
        case (.insideData, .holdingData(let forwarded)):
            // Where the kill lands: postdesk has answered DATA with 354 and read the message's first line, and the
            // final dot never reached it, so it has nothing to commit.
            #expect(forwarded > 0)
            #expect(try LMTPDeliveryTests.queue(desk).isEmpty)
            try await desk.stop(signal: SIGKILL)
            #expect(try Self.count("inbound", in: database) == 0, "killed inside DATA, nothing may be stored")
        case (.beforeReply, .holdingReply(let reply)):
            // Where the kill lands: postdesk has committed the mail and answered 250 for it; OpenSMTPD never hears it.
            #expect(reply.hasPrefix("250"), "\(reply)")
            #expect(try LMTPDeliveryTests.queue(desk).map(\.summary) == ["Mid-delivery"])
            try await desk.stop(signal: SIGKILL)
        default:
            throw PostdeskTestError("the proxy held the wrong point: \(held)")
        }
        _ = try await desk.eventually("the proxy closing the held connection") {
            proxy.progress == .closed ? true : nil
        }
        // OpenSMTPD's LMTP client lost its connection before a reply: a temporary failure, the mail stays queued.
        let failure = try await desk.eventually("OpenSMTPD recording a temporary failure") { () -> String? in
            let log = (try? String(contentsOfFile: servers.smtpdLog, encoding: .utf8)) ?? ""
            return log.split(separator: "\n").last { $0.contains(help) && $0.contains("result=TempFail") }
                .map(String.init)
        }
        print("LMTP kill (\(hold)): proxy \(held); OpenSMTPD: \(failure)")
        #expect(try servers.smtpctl(["show", "queue"]).contains(help))

        try await desk.start()
        try servers.smtpctl(["schedule", "all"])
        _ = try await desk.eventually("OpenSMTPD's queue empty after the retry") {
            try servers.smtpctl(["show", "queue"]).contains(help) ? nil : true
        }
        let log = try desk.json([LogRow].self, ["log", "--channel", help])
        #expect(try LMTPDeliveryTests.queue(desk).map(\.summary) == ["Mid-delivery"])
        #expect(log.filter { $0.outcome == "created" }.count == 1, "\(log)")
        if hold == .beforeReply {
            #expect(log.contains { $0.outcome == "duplicate" }, "the retry must be recognised: \(log)")
        }
        #expect(try Self.count("request", in: database) == 1)
        try await desk.stop()
    }

    /// Rows of `table`, read from the database file (also while postdesk is down).
    static func count(_ table: String, in database: URL) throws -> Int {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = ["-readonly", database.path, "SELECT count(*) FROM \(table)"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let count = Int(text) else { throw PostdeskTestError("sqlite3 said \(text)") }
        return count
    }
}
