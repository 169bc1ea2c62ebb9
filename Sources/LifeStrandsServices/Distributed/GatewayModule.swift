import Foundation
import Hummingbird
import NIOCore

/// The gateway: where players come in. In distributed mode it sends each API path on to the service that
/// owns it and relays the WebSocket to the chat service; in every mode it serves the chat UI and the
/// OpenAPI document.
struct GatewayModule: ServiceModule {
    let parts: ServiceParts
    /// Whether this process is the gateway alone, with the other services behind it.
    let proxies: Bool
    var name: ServiceName { .gateway }

    func addRoutes(to router: Router<AppRequestContext>) {
        if proxies {
            router.add(middleware: GatewayProxy(clients: parts.dependencies.peers, maxBodyBytes: parts.maxBodyBytes))
            if let chat = parts.dependencies.peers[.chat], let sockets = parts.sockets {
                GatewaySocket(chat: chat, browsers: parts.browsers, gate: sockets).addRoutes(to: router)
            }
        }
        // The chat UI: plain files, no build step, shipped inside the binary's resource bundle.
        if let publicFolder = Bundle.module.url(forResource: "Public", withExtension: nil) {
            router.add(
                middleware: FileMiddleware(publicFolder.path(percentEncoded: false), searchForIndexHtml: true, logger: parts.logger))
        }
        router.get("openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
    }
}
