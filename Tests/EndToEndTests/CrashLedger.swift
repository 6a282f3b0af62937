import Foundation

/// What the harness did during a crash run, shared by its deliverer, its agent and its killer: the
/// mail delivered, the comments made, the server's generations (one per start).
actor CrashLedger {
    /// A comment the agent made on the request of one mail.
    struct Comment: Sendable {
        var requestKey: String
        /// The notification's Message-ID as the API answered; nil when the answer was lost in a kill
        /// and the comment was found on the request afterwards.
        var messageID: String?
    }

    /// A comment call that failed: the server may or may not have committed it before it died.
    struct Uncertain: Sendable {
        var index: Int
        var requestKey: String
        /// The generation that was current when the call failed: only a later generation's answer is final.
        var generation: Int
    }

    /// What a killed server left for the next one, read from its database while it was down.
    struct Unfinished: Sendable {
        var inbound: Int
        var outbox: Int
        /// Mail stored in the database but not yet flagged \Seen or deleted in its mailbox.
        var storedNotFlagged: Int
    }

    private(set) var delivered: [Int] = []
    private(set) var unfinishedAtKills: [Unfinished] = []
    private(set) var burstsStarted = 0
    private(set) var burstsDelivered = 0
    private(set) var deliveriesDone = false
    private(set) var generation = 0
    private(set) var serverUp = false
    private(set) var killsDone = false
    private(set) var bursts = 0
    private(set) var comments: [Int: Comment] = [:]
    private(set) var uncertain: [Int: Uncertain] = [:]
    /// Comment calls that failed (because the server died or was down), found made or made again later.
    private(set) var failedCommentCalls = 0
    /// Uncertain comments the server had committed although the call failed.
    private(set) var committedDespiteFailure = 0

    func recordDelivery(_ index: Int) { delivered.append(index) }
    func finishDeliveries() { deliveriesDone = true }
    func finishBurstDelivery() { burstsDelivered += 1 }
    func started() {
        generation += 1
        serverUp = true
    }
    func killed() { serverUp = false }
    func finishKills() { killsDone = true }
    func startBurst() { burstsStarted += 1 }
    func finishBurst() { bursts += 1 }
    func recordKill(_ unfinished: Unfinished?) {
        if let unfinished { unfinishedAtKills.append(unfinished) }
    }

    func commented(_ index: Int, requestKey: String, messageID: String?) {
        comments[index] = Comment(requestKey: requestKey, messageID: messageID)
        uncertain[index] = nil
    }

    func commentFailed(_ index: Int, requestKey: String) {
        failedCommentCalls += 1
        uncertain[index] = Uncertain(index: index, requestKey: requestKey, generation: generation)
    }

    /// The uncertain comment was found on its request after a restart.
    func foundCommitted(_ index: Int) {
        guard let entry = uncertain[index] else { return }
        committedDespiteFailure += 1
        commented(index, requestKey: entry.requestKey, messageID: nil)
    }

    /// The uncertain comment was not committed: it is made again.
    func notCommitted(_ index: Int) { uncertain[index] = nil }

    /// Uncertain comments whose server has been replaced since, so that the request now shows their fate.
    func resolvable() -> [Uncertain] {
        uncertain.values.filter { $0.generation < generation }.sorted { $0.index < $1.index }
    }

    func isUncertain(_ index: Int) -> Bool { uncertain[index] != nil }
    func isCommented(_ index: Int) -> Bool { comments[index] != nil }
}
