import Foundation
import LMTPServer
import Logging
import ServiceDesk

/// Push delivery (DESIGN.md §7): decides each LMTP recipient by the channels' addresses and stores each message
/// through the one inbound path (`DeskStore.receive`), so that a mail that arrives by LMTP and by a mailbox is
/// taken once. A recipient gets 250 only after the mail is committed, 451 when the store fails (the MTA keeps the
/// mail and retries), 550 when no enabled channel has the address.
public struct LMTPIntake: LMTPDeliveryHandler {
    private let store: DeskStore
    private let router: RequestRouter
    private let statusBoard: ChannelStatusBoard
    private let logger: Logger

    /// An intake storing into `store` and handing new rows to `router`.
    public init(store: DeskStore, router: RequestRouter, statusBoard: ChannelStatusBoard, logger: Logger) {
        self.store = store
        self.router = router
        self.statusBoard = statusBoard
        self.logger = logger
    }

    /// Which channel an address leads to.
    enum Lookup: Equatable {
        case channel(Channel)
        case unknown
        /// The store could not be read.
        case unavailable
    }

    public func recipient(_ address: String) async -> LMTPRecipientVerdict {
        switch await lookUp(address) {
        case .channel: return .accepted
        case .unknown:
            logger.notice("LMTP recipient refused: no enabled channel has the address", metadata: ["lmtp.reply": "550"])
            logger.debug("LMTP recipient refused", metadata: ["lmtp.recipient": "\(address)"])
            return .unknownRecipient
        case .unavailable:
            return .temporaryFailure
        }
    }

    public func deliver(_ delivery: LMTPDelivery) async -> [LMTPDeliveryResult] {
        // RFC 5321 §4.4: the final delivery adds the Return-Path, which the auto-reply rules read (a bounce has <>).
        let raw = Array("Return-Path: <\(delivery.reversePath)>\r\n".utf8) + delivery.message
        var results: [LMTPDeliveryResult] = []
        var toProcess: [Int64] = []
        for recipient in delivery.recipients {
            let channel: Channel
            switch await lookUp(recipient) {
            case .channel(let found): channel = found
            case .unknown:
                // Unlinked or disabled since RCPT.
                results.append(.unknownRecipient)
                continue
            case .unavailable:
                results.append(.temporaryFailure)
                continue
            }
            guard let channelId = channel.id else {
                results.append(.temporaryFailure)
                continue
            }
            let outcome: ReceiveOutcome
            do {
                outcome = try await store.receive(channelId: channelId, raw: raw, mailboxUid: nil)
            } catch {
                logger.error(
                    "cannot store a mail delivered over LMTP; the MTA keeps it and retries",
                    metadata: ["channel.id": "\(channelId)", "error": "\(error)"])
                results.append(.temporaryFailure)
                continue
            }
            results.append(.delivered)
            logger.info(
                "mail delivered over LMTP",
                metadata: [
                    "channel.id": "\(channelId)", "inbound.id": "\(outcome.inboundId)", "outcome": "\(outcome)",
                ])
            if outcome.needsProcessing, !toProcess.contains(outcome.inboundId) { toProcess.append(outcome.inboundId) }
            if case .duplicate = outcome { router.metrics.count(.duplicate) }
            if case .stored = outcome {
                await statusBoard.countProcessed(channelId, address: channel.address, count: 1)
            }
            if channel.protocol == .lmtp {
                await statusBoard.update(channelId, address: channel.address) { $0.lastSuccessAt = Date() }
            }
        }
        for id in toProcess { await router.submit(id) }
        for result in results { router.metrics.lmtpDelivery(result) }
        return results
    }

    /// The enabled channel that has `address` as its address or one of its extra addresses (normalised as the store
    /// does); a plus-addressed reply (`support+sd-12.token@…`, the Reply-To of notifications) leads to the channel
    /// of the address without the tag.
    func lookUp(_ address: String) async -> Lookup {
        guard let normalized = AddressNormalizer.normalize(address) else { return .unknown }
        var candidates = [normalized]
        if let at = normalized.lastIndex(of: "@"), let plus = normalized[..<at].firstIndex(of: "+") {
            candidates.append(String(normalized[..<plus] + normalized[at...]))
        }
        for candidate in candidates {
            do {
                let runnable = try await store.runnableChannel(address: candidate)
                return runnable.channel.enabled ? .channel(runnable.channel) : .unknown
            } catch let error as DeskError where error.code == .notFound {
                continue
            } catch {
                logger.error("cannot look up an LMTP recipient", metadata: ["error": "\(error)"])
                return .unavailable
            }
        }
        return .unknown
    }
}
