// Intake through the store without a mail server, into a fresh SQLite file for each run:
//   - "one by one": `receive` then `process` per mail, one write transaction each (the path before batching),
//     with synchronous=FULL (the server's setting) and NORMAL, to show what durable commits cost;
//   - "batch B": what the mailbox and the router do now for each fetched batch of B mails: one `receive` of the
//     batch, one `claimForProcessing` of its rows, the readings, one `process` of the batch (three transactions
//     per batch), with synchronous=FULL.
// Prints mails/s and the CPU time per mail (user + system, of the whole process: the wall clock moves with the
// load of a shared machine, the CPU time much less).
//   swift build -c release --package-path Benchmarks --product IntakeProfile
//   Benchmarks/.build/release/IntakeProfile [mails] [batch sizes…]   (default: 2000 mails, 0 1 10 50 100; 0 is one by one)
import Foundation
import IntakeFixtures
import ServiceDesk

#if canImport(Glibc)
    import Glibc
#endif

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let count = arguments.first ?? 2000
let batchSizes = arguments.count > 1 ? Array(arguments.dropFirst()) : [0, 1, 10, 50, 100]

/// CPU seconds (user + system) this process has used so far.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// How the mails go in.
enum Mode {
    case oneByOne
    case batch(Int)
}

func measure(_ mode: Mode, durability: DeskStore.Durability) async throws -> (rate: Double, cpuPerMail: Double) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("intake-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    let (store, channelId) = try await makeIntakeStore(in: directory, durability: durability)
    let body = String(repeating: "The printer on floor 3 does not print. ", count: 25)
    let mails = (0..<count).map { n in
        Array(
            "From: customer\(n % 200)@customer.test\r\nTo: help@desk.test\r\nSubject: Printer \(n)\r\nMessage-ID: <m\(n)@customer.test>\r\n\r\n\(body)\r\n"
                .utf8)
    }
    let policy = IntakePolicy(senderHourlyLimit: 0)
    let cpuBefore = cpuSeconds()
    let start = ContinuousClock.now
    switch mode {
    case .oneByOne:
        for (n, raw) in mails.enumerated() {
            let outcome = try await store.receive(channelId: channelId, raw: raw, mailboxUid: String(n))
            _ = try await store.process(MailReading(raw: raw), inboundId: outcome.inboundId, policy: policy)
        }
    case .batch(let size):
        for first in stride(from: 0, to: mails.count, by: size) {
            let fetched = (first..<min(first + size, mails.count)).map {
                FetchedMail(raw: mails[$0], mailboxUid: String($0))
            }
            let outcomes = try await store.receive(channelId: channelId, messages: fetched)
            let claimed = try await store.claimForProcessing(
                inboundIds: outcomes.filter(\.needsProcessing).map(\.inboundId), policy: policy)
            let batch = claimed.compactMap { mail in
                mail.id.map { ReadInbound(inboundId: $0, reading: MailReading(raw: [UInt8](mail.raw))) }
            }
            for result in await store.process(batch, policy: policy) {
                if case .failure(let error) = result { throw error }
            }
        }
    }
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return (Double(count) / seconds, (cpuSeconds() - cpuBefore) / Double(count))
}

func report(_ label: String, _ result: (rate: Double, cpuPerMail: Double)) {
    let cpu = String(format: "%.3f", result.cpuPerMail * 1000)
    print("\(label): \(Int(result.rate)) mails/s, \(cpu) ms CPU per mail (\(count) mails)")
}

for size in batchSizes where size == 0 {
    report("one by one, synchronous=FULL  ", try await measure(.oneByOne, durability: .full))
    report("one by one, synchronous=NORMAL", try await measure(.oneByOne, durability: .normal))
}
for size in batchSizes where size > 0 {
    let label = "batch \(size)".padding(toLength: 10, withPad: " ", startingAt: 0)
    report("\(label), synchronous=FULL  ", try await measure(.batch(size), durability: .full))
}
