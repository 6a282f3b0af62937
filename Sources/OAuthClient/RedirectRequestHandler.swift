import NIOCore
import NIOHTTP1

/// One browser connection to the redirect listener: reads a request head, lets the waiter decide, writes the
/// page and closes (`Connection: close`). Request bodies are ignored; NIO's parser bounds the head's size.
final class RedirectRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let waiter: RedirectWaiter
    private var head: HTTPRequestHead?

    init(waiter: RedirectWaiter) {
        self.waiter = waiter
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head else { return }
            self.head = nil
            let channel = context.channel
            let respond: RedirectWaiter.Respond = { status, html in
                Self.write(status: status, html: html, on: channel)
            }
            guard head.method == .GET else {
                respond(405, RedirectWaiter.page("Method not allowed", "Only the browser's redirect (GET) comes here."))
                return
            }
            waiter.handle(target: head.uri, respond: respond)
        }
    }

    /// Writes the whole answer on the channel's event loop, then closes the connection.
    static func write(status: Int, html: String, on channel: any Channel) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/html; charset=utf-8")
        headers.add(name: "Content-Length", value: String(html.utf8.count))
        headers.add(name: "Cache-Control", value: "no-store")
        headers.add(name: "Connection", value: "close")
        let head = HTTPResponseHead(
            version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers)
        channel.write(HTTPServerResponsePart.head(head), promise: nil)
        channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: html))), promise: nil)
        channel.writeAndFlush(HTTPServerResponsePart.end(nil)).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}
