import EmailChannel
import Hummingbird
import PostdeskWire
import ServiceDesk

/// `/v1/requests/{key}`: a request with its thread, and an agent's comment on it (mailed when public).
struct RequestRoutes: Sendable {
    let store: DeskStore
    let notifier: Notifier

    func addRoutes(to router: Router<AdminRequestContext>) {
        router.get("/v1/requests/:key") { _, context in
            let key = try context.parameters.require("key")
            let detail = try await store.request(key: key)
            let request = detail.request
            let participants = try await store.participants(requestKey: key)
            let attachments = try await store.attachments(requestKey: key).map {
                AttachmentView(
                    filename: $0.filename, contentType: $0.contentType, size: $0.size, sha256: $0.sha256,
                    inline: $0.isInline, path: $0.path)
            }
            return RequestView(
                key: request.key, summary: request.summary, description: request.description,
                status: request.status.rawValue, reporter: request.reporter,
                comments: detail.comments.map {
                    CommentView(author: $0.author, body: $0.body, public: $0.isPublic, source: $0.source.rawValue)
                }, participants: participants, attachments: attachments)
        }
        router.post("/v1/requests/:key/comments") { request, context in
            let body = try await request.decode(as: CommentBody.self, context: context)
            let result = try await store.addAgentComment(
                requestKey: try context.parameters.require("key"), author: body.author, body: body.body,
                isPublic: !body.internal)
            if result.notification != nil { await notifier.ring() }
            return created(
                CommentResult(
                    request: try context.parameters.require("key").uppercased(), public: !body.internal,
                    notificationMessageId: result.notification?.messageId))
        }
    }
}
