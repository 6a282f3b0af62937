import Foundation
import Testing

@testable import EmailChannel

@Suite("Retry policy")
struct RetryPolicyTests {
    @Test("delays double from the base and stop at the cap")
    func doubling() {
        let policy = RetryPolicy(base: .seconds(2), maximum: .seconds(60), jitter: 0)
        let delays = (1...7).map { policy.delay(forAttempt: $0) }
        #expect(
            delays == [.seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(32), .seconds(60), .seconds(60)])
    }

    @Test("jitter stays within its fraction of the delay")
    func jitter() throws {
        let policy = RetryPolicy(base: .seconds(10), maximum: .seconds(100), jitter: 0.2)
        #expect(policy.delay(forAttempt: 1, random: 0) == .seconds(8))
        #expect(policy.delay(forAttempt: 1, random: 0.5) == .seconds(10))
        let high = try #require(policy.delay(forAttempt: 1, random: 0.999_999))
        #expect(high > .seconds(11.99) && high <= .seconds(12))
    }

    @Test("the policy gives up after its attempts")
    func givesUp() {
        let policy = RetryPolicy(base: .seconds(1), maximum: .seconds(10), maxAttempts: 3, jitter: 0)
        #expect(policy.delay(forAttempt: 3) == .seconds(4))
        #expect(policy.delay(forAttempt: 4) == nil)
    }

    @Test("huge attempt numbers do not overflow")
    func noOverflow() {
        #expect(RetryPolicy.mailbox.delay(forAttempt: 10_000, random: 0.5) == .seconds(300))
    }
}

@Suite("Mailbox helpers")
struct MailboxHelperTests {
    @Test("SEARCH SINCE dates are RFC 3501 dates a day early")
    func imapDate() throws {
        let date = try #require(ISO8601DateFormatter().date(from: "2026-03-01T10:00:00Z"))
        #expect(MailboxActor.imapDate(date) == "28-Feb-2026")
    }
}
