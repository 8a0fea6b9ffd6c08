import APKModel
import APKRuntime
package import APKStore
import Foundation
package import Hummingbird
import Logging
import NIOCore

/// Client management on the reference IdP's DCR paths (contract §10.2), but protected: every call needs a bearer
/// token with ``DeployerScope/admin`` (403 900910 without it, 401 900903 without a valid token: ``CallerDenied``)
/// and reaches only the clients of the caller's organization (token `organization` claim); another organization's
/// client is 404 like an unknown one.
///
/// - `POST /dcr/register` → 201 with the new client and its secret (shown only here and on regeneration);
/// - `GET /dcr/register` (ours) → the organization's clients, never secrets;
/// - `GET /dcr/register/{client_id}` → the client without its secret (the reference returns it);
/// - `PUT /dcr/register/{client_id}` → replaces name, grant types, redirect URIs and scopes;
/// - `POST /dcr/register/{client_id}/regenerate-secret` (ours) → 200 with a new secret; the old one stops at once;
/// - `DELETE /dcr/register/{client_id}` → 204; tokens already issued stay valid until they expire.
///
/// Secrets are stored hashed (``ClientSecret``); every answer is `Cache-Control: no-store`.
package struct ClientRegistrationController<Context: RequestContext>: Sendable {
    /// Largest accepted body.
    package static var maxBodyBytes: Int { 65_536 }
    /// Longest client id looked up (ids are UUIDs; anything longer is unknown).
    static var maxClientIDLength: Int { 128 }

    /// Where clients live (the token issuer reads them from the same store on every request).
    package let store: any ControlPlaneStore
    /// Checks the bearer token and the admin scope.
    package let authenticator: CallerAuthenticator

    /// Hashes new secrets (PBKDF2, off the event loops).
    package let secrets: ClientSecretVerifier

    /// The controller over `store`.
    package init(store: any ControlPlaneStore, authenticator: CallerAuthenticator, secrets: ClientSecretVerifier) {
        self.store = store
        self.authenticator = authenticator
        self.secrets = secrets
    }

    /// Adds the `/dcr/register…` routes.
    package func addRoutes(to router: Router<Context>) {
        let group = router.group("dcr/register")
        group.post { request, context in try await register(request, context: context) }
        group.get { request, context in try await list(request, context: context) }
        group.get(":clientID") { request, context in try await read(request, context: context) }
        group.put(":clientID") { request, context in try await update(request, context: context) }
        group.delete(":clientID") { request, context in try await delete(request, context: context) }
        group.post(":clientID/regenerate-secret") { request, context in try await regenerate(request, context: context) }
    }

    func register(_ request: Request, context: Context) async throws -> Response {
        let caller = try await admin(request, resource: "/register", context: context)
        return await answer(context) { () async throws(ClientRegistrationError) -> Response in
            let metadata = try ClientMetadata.parse(try await body(request))
            let secret = ClientSecret.generate()
            let client = OAuthClient(
                id: UUID().uuidString.lowercased(), secretHash: try await hash(secret, context: context), name: metadata.name,
                organization: caller.organization, allowedScopes: metadata.scopes, grantTypes: metadata.grantTypes,
                redirectURIs: metadata.redirectURIs)
            guard try await storing(context, { () async throws(StoreError) in try await store.createClient(client) }) else {
                throw .internalError()  // a random UUID that exists: retrying is the answer
            }
            changed("register", client: client, caller: caller, context: context)
            return .json(client.registrationJSON(secret: secret), status: .created).noStore()
        }
    }

    func list(_ request: Request, context: Context) async throws -> Response {
        let caller = try await admin(request, resource: "/register", context: context)
        return await answer(context) { () async throws(ClientRegistrationError) -> Response in
            let clients = try await storing(context) { () async throws(StoreError) in
                try await store.clients(organization: caller.organization)
            }
            return .json(["count": .int(clients.count), "list": .array(clients.map(\.registrationJSON))]).noStore()
        }
    }

    func read(_ request: Request, context: Context) async throws -> Response {
        let caller = try await admin(request, resource: "/register/{client_id}", context: context)
        return await answer(context) { () async throws(ClientRegistrationError) -> Response in
            let id = try clientID(context)
            let found = try await storing(context) { () async throws(StoreError) in try await store.client(id: id) }
            guard let client = found, client.organization == caller.organization else { throw .notFound(id) }
            return .json(client.registrationJSON).noStore()
        }
    }

    func update(_ request: Request, context: Context) async throws -> Response {
        let caller = try await admin(request, resource: "/register/{client_id}", context: context)
        return await answer(context) { () async throws(ClientRegistrationError) -> Response in
            let id = try clientID(context)
            let metadata = try ClientMetadata.parse(try await body(request))
            let wanted = OAuthClient(
                id: id, secretHash: "", name: metadata.name, organization: caller.organization,
                allowedScopes: metadata.scopes, grantTypes: metadata.grantTypes, redirectURIs: metadata.redirectURIs)
            let updated = try await storing(context) { () async throws(StoreError) in try await store.updateClient(wanted) }
            guard let updated else { throw .notFound(id) }
            changed("update", client: updated, caller: caller, context: context)
            return .json(updated.registrationJSON).noStore()
        }
    }

    func regenerate(_ request: Request, context: Context) async throws -> Response {
        let caller = try await admin(request, resource: "/register/{client_id}/regenerate-secret", context: context)
        return await answer(context) { () async throws(ClientRegistrationError) -> Response in
            let id = try clientID(context)
            let secret = ClientSecret.generate()
            let hash = try await hash(secret, context: context)
            let rotated = try await storing(context) { () async throws(StoreError) in
                try await store.replaceClientSecret(id: id, organization: caller.organization, secretHash: hash)
            }
            guard let rotated else { throw .notFound(id) }
            changed("regenerate_secret", client: rotated, caller: caller, context: context)
            return .json(rotated.registrationJSON(secret: secret)).noStore()
        }
    }

    /// A new secret's hash; 503 `100100` when too many hashings wait (the KDF is bounded).
    private func hash(_ secret: String, context: Context) async throws(ClientRegistrationError) -> String {
        do {
            return try await secrets.hash(secret)
        } catch {
            context.logger.warning("client secret hashing refused: too many waiting")
            throw .internalError(status: 503)
        }
    }

    func delete(_ request: Request, context: Context) async throws -> Response {
        let caller = try await admin(request, resource: "/register/{client_id}", context: context)
        return await answer(context) { () async throws(ClientRegistrationError) -> Response in
            let id = try clientID(context)
            let deleted = try await storing(context) { () async throws(StoreError) in
                try await store.deleteClient(id: id, organization: caller.organization)
            }
            guard deleted else { throw .notFound(id) }
            DeployerMetrics.countClientChange(action: "delete")
            context.logger.info(
                "OAuth client delete",
                metadata: ["oauth.client.id": .string(id), "apk.organization": .string(caller.organization),
                           "apk.actor": .string(caller.subject)])
            return Response(status: .noContent).noStore()
        }
    }

    // MARK: helpers

    private func admin(_ request: Request, resource: String, context: Context) async throws -> Caller {
        try await authenticator.authenticate(request, anyOf: [DeployerScope.admin], resource: resource, logger: context.logger)
    }

    /// The `{client_id}` path parameter; ids longer than ``maxClientIDLength`` are unknown.
    private func clientID(_ context: Context) throws(ClientRegistrationError) -> String {
        let id = context.parameters.get("clientID") ?? ""
        guard !id.isEmpty, id.utf8.count <= Self.maxClientIDLength else { throw .notFound(id) }
        return id
    }

    /// The JSON body, at most ``maxBodyBytes``.
    private func body(_ request: Request) async throws(ClientRegistrationError) -> [UInt8] {
        let mediaType = request.headers[.contentType]?.split(separator: ";").first
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard mediaType == "application/json" else { throw .notJSON }
        do {
            return Array(try await request.collectBody(limit: Self.maxBodyBytes).readableBytesView)
        } catch let error as APKError where error.status == 413 {
            throw .registrationTooLarge(limit: Self.maxBodyBytes)
        } catch {
            throw .invalidMetadata("The request body could not be read")
        }
    }

    /// Runs a store call: unavailable is 503 `100100`, any other failure 500 `100100` (logged, never shown).
    private func storing<T>(
        _ context: Context, _ call: () async throws(StoreError) -> T
    ) async throws(ClientRegistrationError) -> T {
        do {
            return try await call()
        } catch {
            let unavailable = if case .unavailable = error { true } else { false }
            context.logger.error(
                "client registration store call failed",
                metadata: ["error.code": .string(unavailable ? "909063" : "100100"),
                           "error.description": .string(error.description)])
            throw .internalError(status: unavailable ? 503 : 500)
        }
    }

    /// The handler's response, or its error as `{"error","error_description"}`.
    private func answer(
        _ context: Context, _ handler: () async throws(ClientRegistrationError) -> Response
    ) async -> Response {
        do {
            return try await handler()
        } catch {
            context.logger.info(
                "client registration refused",
                metadata: ["dcr.error": .string(error.error), "http.status": .stringConvertible(error.status)])
            return error.response
        }
    }

    private func changed(_ action: String, client: OAuthClient, caller: Caller, context: Context) {
        DeployerMetrics.countClientChange(action: action)
        context.logger.info(
            "OAuth client \(action)",
            metadata: ["oauth.client.id": .string(client.id), "apk.organization": .string(client.organization),
                       "apk.actor": .string(caller.subject)])
    }
}
