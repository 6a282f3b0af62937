import Foundation
import MailServerHarness
import Testing

/// The crash harness (issue 8 §6) in the normal suite at CI size, and at full size through
/// `scripts/crash-harness.sh` (POSTDESK_CRASH_MAILS=500 POSTDESK_CRASH_KILLS=30).
@Suite("CrashHarness: SIGKILL at random moments loses and doubles nothing", .serialized)
struct CrashHarnessTests {
    /// The size of a run: from the environment, else the CI size (about 40 mails and 4 kills).
    struct Size: Sendable {
        var mails: Int
        var kills: Int
        var seed: UInt64

        static let environment: Size = {
            let env = ProcessInfo.processInfo.environment
            return Size(
                mails: env["POSTDESK_CRASH_MAILS"].flatMap { Int($0) }.map { max($0, 1) } ?? 40,
                kills: env["POSTDESK_CRASH_KILLS"].flatMap { Int($0) }.map { max($0, 0) } ?? 4,
                seed: env["POSTDESK_CRASH_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1...UInt64(UInt32.max)))
        }()

        /// Generous for the full run; the CI run must stay well under two minutes.
        var timeLimit: TimeLimitTrait.Duration { mails > 100 || kills > 8 ? .minutes(60) : .minutes(3) }
    }

    @Test(
        "mail delivered to IMAP and POP3 while postdesk is SIGKILLed, also mid-notification: none lost, none doubled, resends keep their Message-ID",
        .timeLimit(Size.environment.timeLimit))
    func mailSurvivesKills() async throws {
        let size = Size.environment
        print("crash harness: seed \(size.seed), \(size.mails) mails, \(size.kills) kills")
        let servers = try await MailServers.shared()
        let tag = "x" + String(UUID().uuidString.prefix(6)).lowercased()
        let plan = CrashPlan(mails: size.mails, kills: size.kills, seed: size.seed, tag: tag)
        let report = try await CrashHarness(plan: plan, servers: servers).run()
        print(report.summary)

        func listed(_ problems: [String]) -> String { problems.prefix(40).joined(separator: "\n") }
        #expect(report.mails == size.mails)
        #expect(report.lost.isEmpty, "lost (seed \(size.seed)):\n\(listed(report.lost))")
        #expect(report.duplicated.isEmpty, "duplicated (seed \(size.seed)):\n\(listed(report.duplicated))")
        #expect(
            report.notificationProblems.isEmpty,
            "notifications (seed \(size.seed)):\n\(listed(report.notificationProblems))")
        #expect(report.mailboxProblems.isEmpty, "mailboxes (seed \(size.seed)):\n\(listed(report.mailboxProblems))")
        #expect(report.harnessProblems.isEmpty, "harness (seed \(size.seed)):\n\(listed(report.harnessProblems))")
        // The run exercised what it claims: notifications went out, and the kills struck.
        #expect(report.comments > 0)
        #expect(report.kills == size.kills)
        // A passing run leaves nothing behind; a failing one keeps its database and server logs.
        let problems = [
            report.lost, report.duplicated, report.notificationProblems, report.mailboxProblems,
            report.harnessProblems,
        ]
        if problems.allSatisfy(\.isEmpty) { try? FileManager.default.removeItem(atPath: report.dataDirectory) }
    }
}
