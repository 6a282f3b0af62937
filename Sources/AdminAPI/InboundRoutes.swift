import EmailChannel
import Foundation
import Hummingbird
import NIOCore
import ServiceDesk

/// `/v1/inbound`: stored mails one by one — show one (with its raw bytes), retry failed ones,
/// release or drop mails the rate breaker holds. Reopened mails go to the router at once.
struct InboundRoutes: Sendable {
    let store: DeskStore
    let router: RequestRouter

    func addRoutes(to group: RouterGroup<AdminRequestContext>) {
        group.get(":id") { _, context in
            let id = try context.parameters.require("id", as: Int64.self)
            guard let mail = try await store.inbound(id: id) else {
                throw DeskError(.notFound, "no inbound mail \(id)")
            }
            let address = try await store.channels().first { $0.channel.id == mail.channelId }?.channel.address
            return InboundView(
                id: id, channel: address ?? "?", mailboxUid: mail.mailboxUid, messageId: mail.messageId,
                from: mail.fromAddress, subject: mail.subject, fetchedAt: mail.fetchedAt,
                processedAt: mail.processedAt, outcome: mail.outcome ?? .pending, request: mail.requestKey,
                detail: mail.detail, attempts: mail.attempts, size: mail.raw.count,
                notes: mail.notes.map { $0.split(separator: "\n").map(String.init) })
        }
        group.get(":id/raw") { _, context in
            let id = try context.parameters.require("id", as: Int64.self)
            guard let mail = try await store.inbound(id: id) else {
                throw DeskError(.notFound, "no inbound mail \(id)")
            }
            return Response(
                status: .ok, headers: [.contentType: "message/rfc822"],
                body: .init(byteBuffer: ByteBuffer(data: mail.raw)))
        }
        group.post("retry") { request, context in
            try await change(request, context) { try await store.retryFailed($0) }
        }
        group.post("release") { request, context in
            try await change(request, context) { try await store.releaseHeld($0) }
        }
        group.post("drop") { request, context in
            try await change(request, context) { try await store.dropHeld($0) }
        }
    }

    private func change(
        _ request: Request, _ context: AdminRequestContext,
        _ action: @escaping @Sendable (InboundSelection) async throws -> [Int64]
    ) async throws -> InboundChangeView {
        let body = try await request.decode(as: InboundSelectionBody.self, context: context)
        let selection: InboundSelection
        switch (body.id, body.sender, body.all ?? false) {
        case (let id?, nil, false): selection = .id(id)
        case (nil, let sender?, false): selection = .sender(sender)
        case (nil, nil, true): selection = .all
        default: throw DeskError(.invalid, "name one inbound mail, one sender, or all")
        }
        let ids = try await action(selection)
        for id in ids { await router.submit(id) }
        return InboundChangeView(ids: ids)
    }
}
