// Intake through the store without a mail server: `receive` then `process` for N distinct mails
// into a fresh SQLite file, as the router does it, with synchronous=FULL (the server's setting) and
// with NORMAL, to show what durable commits cost. Prints mails/s for each.
//   swift run -c release --package-path Benchmarks IntakeProfile [mails]
import Foundation
import ServiceDesk

let count = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 2000

func measure(_ durability: DeskStore.Durability) async throws -> Double {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("intake-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let store = try DeskStore(
        path: directory.appendingPathComponent("d.sqlite").path, secrets: SecretBox(), durability: durability)
    _ = try await store.createProject(key: "SD", name: "Bench", signup: .public)
    _ = try await store.addRequestType(
        projectKey: "SD", name: "Help",
        fields: [
            RequestField(name: "summary", visible: true, required: true),
            RequestField(name: "description", visible: true, required: true),
        ])
    let channel = try await store.linkChannel(
        ChannelDraft(
            projectKey: "SD", address: "help@desk.test", protocol: .imap, host: "127.0.0.1", port: 1, tls: .none,
            caFile: nil, username: "help", password: "x", requestTypeName: "Help"),
        watermark: LinkWatermark(uidValidity: 1, uidNext: 1))
    guard let channelId = channel.id else { return 0 }
    let body = String(repeating: "The printer on floor 3 does not print. ", count: 25)
    let mails = (0..<count).map { n in
        Array(
            "From: customer\(n % 200)@customer.test\r\nTo: help@desk.test\r\nSubject: Printer \(n)\r\nMessage-ID: <m\(n)@customer.test>\r\n\r\n\(body)\r\n"
                .utf8)
    }
    let policy = IntakePolicy(senderHourlyLimit: 0)
    let start = ContinuousClock.now
    for (n, raw) in mails.enumerated() {
        let outcome = try await store.receive(channelId: channelId, raw: raw, mailboxUid: String(n))
        _ = try await store.process(MailReading(raw: raw), inboundId: outcome.inboundId, policy: policy)
    }
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return Double(count) / seconds
}

for durability in [DeskStore.Durability.full, .normal] {
    let rate = try await measure(durability)
    print(
        "synchronous=\(durability == .full ? "FULL  " : "NORMAL"): \(Int(rate)) mails/s (\(count) mails, receive + process)"
    )
}
