import Foundation

/// Everything a crash run will do, drawn from one seed before it starts: which mailbox and customer
/// each mail goes to and when, which requests an agent comments on, and when postdesk is killed.
struct CrashPlan: Sendable {
    /// The two kinds of linked mailbox the mail is delivered to.
    enum Mailbox: String, Sendable {
        case imap, pop3
    }

    /// One customer mail, carrying a token in its subject and body that no other mail has.
    struct Mail: Sendable {
        var index: Int
        var token: String
        var mailbox: Mailbox
        var customer: Int
        /// Mails of one burst are delivered at once, so that a mailbox fetches several in one go and a
        /// kill can fall between storing some and flagging or deleting them.
        var burst: Int
        /// How long the deliverer waits before delivering this mail's burst (zero inside a burst).
        var pause: Duration
        /// Whether an agent comments on the request this mail creates (its notification goes out).
        var commented: Bool
        /// The token an agent's comment on this mail's request carries.
        var commentToken: String
    }

    /// What a kill waits for before it strikes.
    enum KillMoment: String, Sendable, CaseIterable {
        /// After a random time up.
        case anytime
        /// Just after the server stored a new mail: while the mailbox stores the rest of its batch,
        /// flags or deletes it, or the router processes it.
        case duringIntake = "during intake"
        /// During an agent's burst of comments: while comments are written and the outbox sends them.
        case duringNotifications = "during notifications"
    }

    /// One SIGKILL of the server.
    struct Kill: Sendable {
        var moment: KillMoment
        /// After the moment's event (or after the restart, for `anytime`), how long until the kill.
        var delay: Duration
        /// How long the server stays down before it is started again.
        var downtime: Duration
    }

    let seed: UInt64
    /// Makes this run's addresses and tokens unique on a mail server shared with other tests.
    let tag: String
    let mails: [Mail]
    let kills: [Kill]
    let customers: Int
    /// The seed of the agent's own choices (burst sizes, pauses), which depend on what it sees.
    let agentSeed: UInt64

    /// Mails per customer stay far below the server's per-sender rate limit (20 an hour per channel).
    static let mailsPerCustomer = 8

    init(mails count: Int, kills killCount: Int, seed: UInt64, tag: String) {
        self.seed = seed
        self.tag = tag
        var random = SplitMix64(seed: seed)
        let customers = max(2, (count + Self.mailsPerCustomer - 1) / Self.mailsPerCustomer)
        self.customers = customers
        // Deliveries are spread over about as long as the kills take (some 2.5 s a cycle), so that
        // mail keeps arriving while the server dies and comes back.
        let meanPause = max(10, killCount * 2_500 / max(count, 1))
        var customerOrder = (0..<count).map { $0 % customers }
        customerOrder.shuffle(using: &random)
        var burst = 0
        var leftInBurst = 0
        mails = (0..<count).map { index in
            var pause = Duration.zero
            if leftInBurst == 0 {
                leftInBurst = Int.random(in: 1...10, using: &random)
                burst += 1
                // Bursts average 5.5 mails: the pause before one is 5.5 mean pauses on average.
                pause = random.milliseconds(0, 11 * meanPause)
            }
            leftInBurst -= 1
            return Mail(
                index: index, token: Self.token(tag, "m", index),
                mailbox: Bool.random(using: &random) ? .imap : .pop3, customer: customerOrder[index], burst: burst,
                pause: pause, commented: Bool.random(using: &random), commentToken: Self.token(tag, "n", index))
        }
        kills = (0..<killCount).map { _ in
            let moment = KillMoment.allCases.randomElement(using: &random) ?? .anytime
            let delay =
                switch moment {
                case .anytime: random.milliseconds(200, 4_000)
                // Counted from the moment the harness sees a newly stored mail in the processing log.
                case .duringIntake: random.milliseconds(0, 60)
                // Counted from the start of an agent's burst of comments.
                case .duringNotifications: random.milliseconds(0, 600)
                }
            return Kill(moment: moment, delay: delay, downtime: random.milliseconds(0, 600))
        }
        agentSeed = random.next()
    }

    /// `<tag><kind><index, five digits>`: fixed width, so no token is a prefix of another.
    static func token(_ tag: String, _ kind: String, _ index: Int) -> String {
        let digits = String(index)
        return tag + kind + String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }

    func subject(of mail: Mail) -> String { "Crash mail \(mail.token)" }

    /// The mail index a request summary or a comment names, if it is one of this run's.
    func mailIndex(inSummary summary: String) -> Int? {
        index(after: tag + "m", in: summary)
    }

    /// The mail index of every comment token in a text (a notification's body).
    func commentIndices(in text: String) -> [Int] {
        var found: [Int] = []
        var rest = Substring(text)
        let marker = tag + "n"
        while let range = rest.range(of: marker) {
            let digits = rest[range.upperBound...].prefix(5)
            if digits.count == 5, digits.allSatisfy(\.isASCII), let index = Int(digits), index < mails.count {
                found.append(index)
            }
            rest = rest[range.upperBound...]
        }
        return found
    }

    private func index(after marker: String, in text: String) -> Int? {
        guard let range = text.range(of: marker) else { return nil }
        let digits = text[range.upperBound...].prefix(5)
        guard digits.count == 5, digits.allSatisfy(\.isASCII), let index = Int(digits), index < mails.count else {
            return nil
        }
        return index
    }
}
