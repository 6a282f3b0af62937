import AsyncAlgorithms
import Foundation
import Logging
import MailMessage
import ServiceDesk
import ServiceLifecycle

/// Turns stored inbound mail into requests and comments: parses it, recognises automatic mail,
/// asks the customer directory, and has the store decide and record the outcome in one
/// transaction. Mailbox actors hand it the ids of rows they stored; at start it first processes
/// whatever an earlier run stored but did not process.
public actor RequestRouter: Service {
    private let store: DeskStore
    private let directory: CustomerDirectory
    private let inbox: AsyncChannel<Int64>
    private let logger: Logger
    private let parseOptions: MailParser.Options

    public init(
        store: DeskStore, directory: CustomerDirectory, parseOptions: MailParser.Options = .init(), logger: Logger
    ) {
        self.parseOptions = parseOptions
        self.store = store
        self.directory = directory
        self.inbox = AsyncChannel()
        self.logger = logger
    }

    /// Hands a stored inbound row to the router; suspends while the router is busy (backpressure).
    public nonisolated func submit(_ inboundId: Int64) async {
        await inbox.send(inboundId)
    }

    public func run() async throws {
        try await drainPending()
        await cancelWhenGracefulShutdown {
            for await id in self.inbox {
                await self.process(id)
            }
        }
        inbox.finish()
    }

    /// Processes every stored row that has no outcome yet. A row that cannot even be marked
    /// failed (the database refuses writes) is not retried in a loop: it waits for the next start.
    public func drainPending() async throws {
        var attempted = Set<Int64>()
        while true {
            let batch = try await store.pendingInbound(limit: 50).filter { !attempted.contains($0.id ?? -1) }
            if batch.isEmpty { return }
            for mail in batch {
                if let id = mail.id { attempted.insert(id) }
                await process(mail)
            }
        }
    }

    private func process(_ inboundId: Int64) async {
        do {
            guard let mail = try await store.inbound(id: inboundId) else { return }
            await process(mail)
        } catch {
            logger.error("cannot load inbound mail", metadata: ["inbound.id": "\(inboundId)", "error": "\(error)"])
        }
    }

    private func process(_ mail: InboundMail) async {
        guard let id = mail.id, mail.processedAt == nil else { return }
        do {
            let intake = try await intake(for: mail)
            let disposition = try await store.apply(intake, toInbound: id)
            logger.info(
                "inbound mail processed",
                metadata: [
                    "inbound.id": "\(id)", "channel.id": "\(mail.channelId)", "outcome": "\(disposition.outcome)",
                    "request.key": "\(disposition.requestKey ?? "-")",
                ])
        } catch {
            // The mail stays stored with the reason; it is never dropped silently.
            logger.error("inbound mail failed", metadata: ["inbound.id": "\(id)", "error": "\(error)"])
            try? await store.recordFailure(inboundId: id, reason: "\(error)")
        }
    }

    private func intake(for mail: InboundMail) async throws -> InboundIntake {
        let parsed = MailParser.parse([UInt8](mail.raw), options: parseOptions)
        let verdict = AutoReplyClassifier.classify(parsed)
        let sender = parsed.from.first ?? parsed.sender
        let address = sender.flatMap { AddressNormalizer.normalize($0.address) } ?? ""
        let admission: Admission =
            address.isEmpty ? .notCustomer : try await directory.admission(sender: address, channelId: mail.channelId)
        var copied: [String] = []
        for candidate in (parsed.to + parsed.cc).compactMap({ AddressNormalizer.normalize($0.address) })
        where candidate != address && !copied.contains(candidate) {
            copied.append(candidate)
        }
        return InboundIntake(
            senderAddress: address,
            senderName: sender?.name,
            subject: parsed.subject,
            summary: SubjectNormalizer.summary(from: parsed.subject),
            description: parsed.text.trimmingCharacters(in: .whitespacesAndNewlines),
            commentText: parsed.replyText.trimmingCharacters(in: .whitespacesAndNewlines),
            messageID: parsed.messageID,
            referencedMessageIDs: parsed.inReplyTo + parsed.references.reversed(),
            automatic: verdict.isAutomatic ? (verdict.header ?? "?", verdict.reason) : nil,
            admission: admission,
            copied: copied,
            attachments: parsed.attachments.map {
                IncomingAttachment(
                    filename: $0.filename, contentType: $0.contentType, isInline: $0.isInline, data: $0.data)
            },
            notes: parsed.notes,
            verificationToken: parsed.headers[ChannelVerifier.header]?.trimmingCharacters(in: .whitespaces)
        )
    }
}
