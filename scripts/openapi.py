#!/usr/bin/env python3
"""Writes docs/openapi.json, the OpenAPI 3.1 document of postdesk's /v1 API.

The operations are listed below by hand (what each does, what it takes and answers); the schemas are read from the
Codable structs and String enums of Sources/ (PostdeskWire's first, then AdminAPI's, EmailChannel's and ServiceDesk's, so that a
wire model wins over a record of the same name). Tests/AdminAPITests/OpenAPIDocumentTests.swift checks the document
against the routes the server registers, so a route added without its entry here fails the suite.

    python3 scripts/openapi.py            # rewrites docs/openapi.json
"""

import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODULE_ORDER = ["PostdeskWire", "AdminAPI", "EmailChannel", "ServiceDesk", "OAuthClient", "MailMessage", "MailClients"]

PRIMITIVES = {
    "String": {"type": "string"},
    "Substring": {"type": "string"},
    "Int": {"type": "integer"},
    "Int64": {"type": "integer", "format": "int64"},
    "Int32": {"type": "integer", "format": "int32"},
    "UInt16": {"type": "integer"},
    "UInt32": {"type": "integer"},
    "Double": {"type": "number"},
    "TimeInterval": {"type": "number"},
    "Bool": {"type": "boolean"},
    "Date": {"type": "string", "format": "date-time"},
    "URL": {"type": "string", "format": "uri"},
    "Data": {"type": "string", "contentEncoding": "base64"},
}


def read_types():
    """Codable structs (stored properties) and String-backed enums (raw values), by name."""
    structs, enums = {}, {}
    for module in MODULE_ORDER:
        for path in sorted((ROOT / "Sources" / module).glob("*.swift")):
            lines = path.read_text(encoding="utf-8").splitlines()
            stack = []  # (indent, name, kind)
            for line in lines:
                stripped = line.strip()
                indent = len(line) - len(line.lstrip(" "))
                while stack and indent <= stack[-1][0] and stripped.startswith("}"):
                    stack.pop()
                    break
                extension = re.match(r"(?:public )?extension (\w+)(?:\s*:[^{]*)?\s*\{", stripped)
                if extension:
                    stack.append((indent, extension.group(1), "extension"))
                    continue
                match = re.match(r"(?:public |fileprivate |private )?(struct|enum) (\w+)(?:<[^>]*>)?\s*:\s*([^{]*)\{", stripped)
                if match:
                    kind, name, conformances = match.groups()
                    outer = [entry[1] for entry in stack if entry[2] in ("struct", "enum", "extension")]
                    outer = outer[-1:] if outer else []  # the enclosing type's own (already full) name
                    full = "".join(outer + [name])
                    if kind == "struct" and re.search(r"\b(Codable|Encodable|Decodable)\b", conformances):
                        structs.setdefault(full, {"module": module, "properties": [], "scope": outer + [name]})
                    if kind == "enum" and re.search(r"\bString\b", conformances):
                        enums.setdefault(full, {"module": module, "cases": []})
                    stack.append((indent, full, kind))
                    continue
                if not stack:
                    continue
                owner_indent, owner, owner_kind = stack[-1]
                if indent != owner_indent + 4:
                    continue
                if owner_kind == "struct" and owner in structs and structs[owner]["module"] == module:
                    prop = re.match(r"public (?:var|let) (\w+): ([^=]+?)(?:\s*=.*)?$", stripped)
                    if prop and "{" not in stripped:
                        structs[owner]["properties"].append((prop.group(1), prop.group(2).strip()))
                if owner_kind == "enum" and owner in enums and enums[owner]["module"] == module:
                    case = re.match(r"case (.+)$", stripped)
                    if case and "(" not in case.group(1):
                        for item in case.group(1).split(","):
                            item = item.strip()
                            raw = re.match(r'(\w+)\s*=\s*"([^"]*)"', item)
                            enums[owner]["cases"].append(raw.group(2) if raw else item.split()[0])
    return structs, enums


STRUCTS, ENUMS = read_types()
USED = set()


def resolve(name, scope):
    """The schema name a Swift type name means inside `scope` (nested types first)."""
    for depth in range(len(scope), -1, -1):
        candidate = "".join(scope[:depth]) + name
        if candidate in STRUCTS or candidate in ENUMS:
            return candidate
    return None


def schema_of(swift_type, scope=()):
    swift_type = swift_type.strip()
    if swift_type.endswith("?"):
        return schema_of(swift_type[:-1], scope)
    if swift_type.startswith("[") and swift_type.endswith("]"):
        inner = swift_type[1:-1]
        if ":" in inner:
            key, value = inner.split(":", 1)
            return {"type": "object", "additionalProperties": schema_of(value, scope)}
        return {"type": "array", "items": schema_of(inner, scope)}
    if swift_type in PRIMITIVES:
        return dict(PRIMITIVES[swift_type])
    name = resolve(swift_type.split(".")[-1] if "." not in swift_type else swift_type.replace(".", ""), list(scope))
    if name is None and "." in swift_type:
        name = resolve(swift_type.split(".")[-1], [])
    if name is None:
        return {"description": f"{swift_type} (see the source)"}
    USED.add(name)
    return {"$ref": f"#/components/schemas/{name}"}


def component(name):
    if name in ENUMS:
        return {"type": "string", "enum": ENUMS[name]["cases"]}
    struct = STRUCTS[name]
    properties, required = {}, []
    for prop, swift_type in struct["properties"]:
        properties[prop] = schema_of(swift_type, struct["scope"])
        if not swift_type.endswith("?"):
            required.append(prop)
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def ref(name):
    return schema_of(name)


def array(name):
    return {"type": "array", "items": ref(name)}


ERROR = {"$ref": "#/components/schemas/ErrorBody"}

# (method, path, summary, request body schema or None, (status, response schema), query parameters, socket only)
P = "/v1/projects/{project}"
OPERATIONS = [
    ("post", "/v1/projects", "Create a project.", ref("CreateProjectBody"), (201, ref("ProjectView")), [], False),
    ("get", "/v1/projects", "List the projects.", None, (200, array("ProjectView")), [], False),
    ("post", P + "/request-types", "Add a request type to a project.", ref("RequestTypeBody"), (201, ref("RequestTypeView")), [], False),
    ("get", P + "/request-types", "List a project's request types.", None, (200, array("RequestTypeView")), [], False),
    ("put", "/v1/smtp", "Set the SMTP relay; it is tested first, and nothing is saved when the test fails (unless saveAnyway).", ref("SMTPBody"), (200, ref("SMTPSetResult")), [], False),
    ("post", P + "/channels", "Link a mailbox (or a push address) to a project: checked, logged in once, watermarked.", ref("ChannelBody"), (201, ref("ChannelView")), [], False),
    ("get", "/v1/channels", "List the linked channels.", None, (200, array("ChannelView")), [], False),
    ("post", "/v1/channels/import", "Link many mailboxes from a CSV file (streamed NDJSON answer, one line per row).", ref("ChannelImportBody"), (200, ref("ChannelImportResult")), [], False),
    ("post", "/v1/channels/{address}/test", "Log in to a channel's mailbox now and say what works and what does not.", None, (200, ref("ChannelTestReport")), [], False),
    ("post", "/v1/channels/{address}/verify", "Send a test email to a channel and follow it until it is a test request.", None, (201, ref("VerificationView")), [], False),
    ("post", "/v1/channels/{address}/reauthorize", "Give a channel a new OAuth 2.0 grant from a finished sign-in, keeping its watermark.", ref("ReauthorizeBody"), (200, ref("ChannelView")), [], False),
    ("get", "/v1/verifications/{token}", "Where a channel verification stands.", None, (200, ref("VerificationView")), [], False),
    ("post", P + "/customers", "Add a customer to a project.", ref("CustomerBody"), (201, ref("CustomerView")), [], False),
    ("get", P + "/customers", "List a project's customers.", None, (200, array("CustomerView")), [], False),
    ("post", P + "/customer-rules", "Add an address or domain to a project's allow or block list.", ref("CustomerRuleBody"), (201, ref("CustomerRuleBody")), [], False),
    ("delete", P + "/customer-rules", "Remove an entry from a project's allow or block list.", ref("CustomerRuleBody"), (200, ref("CustomerRuleBody")), [], False),
    ("get", P + "/customer-rules", "List a project's allow and block lists.", None, (200, array("CustomerRuleBody")), [], False),
    ("get", P + "/queue", "A project's open requests.", None, (200, array("QueueRowView")), [], False),
    ("get", "/v1/requests/{key}", "A request with its comments, participants and attachments.", None, (200, ref("RequestView")), [], False),
    ("post", "/v1/requests/{key}/comments", "Comment on a request; a public comment is mailed to the customer.", ref("CommentBody"), (201, ref("CommentResult")), [], False),
    ("get", "/v1/console", "The web console's address, when serve runs one.", None, (200, ref("ConsoleInfoView")), [], False),
    ("get", "/v1/health", "Each channel's state, the relay's and the outbox's: what status shows.", None, (200, ref("HealthView")), [], False),
    ("get", "/v1/nodes", "The desk's nodes on PostgreSQL and the mailboxes each holds (400 on SQLite).", None, (200, array("NodeView")), [], False),
    ("get", "/v1/log", "The processing log: what became of each mail, newest first.", None, (200, array("LogEntry")), [
        ("channel", "A channel address."), ("since", "ISO 8601 time."), ("limit", "At most this many (default 200)."),
        ("outcome", "Comma-separated outcomes."), ("sender", "A sender address.")], False),
    ("get", "/v1/inbound/{id}", "One stored mail: how it was read and what became of it.", None, (200, ref("InboundView")), [], False),
    ("get", "/v1/inbound/{id}/raw", "One stored mail's bytes (message/rfc822).", None, (200, {"type": "string", "contentMediaType": "message/rfc822"}), [], False),
    ("post", "/v1/inbound/retry", "Process failed or quarantined mail again.", ref("InboundSelectionBody"), (200, ref("InboundChangeView")), [], False),
    ("post", "/v1/inbound/release", "Release mail the rate limit held.", ref("InboundSelectionBody"), (200, ref("InboundChangeView")), [], False),
    ("post", "/v1/inbound/drop", "Give up held mail.", ref("InboundSelectionBody"), (200, ref("InboundChangeView")), [], False),
    ("get", "/v1/outbox", "The notifications, newest first.", None, (200, array("OutboxEntry")), [
        ("status", "pending, sent, failed or held."), ("limit", "At most this many (default 200).")], False),
    ("post", "/v1/outbox/{id}/retry", "Send a failed notification again.", None, (200, ref("OutboxRetryResult")), [], False),
    ("post", "/v1/outbox/release", "Send held notifications (all, or ?id=).", None, (200, ref("OutboxRetryResult")), [("id", "One notification.")], False),
    ("post", "/v1/outbox/drop", "Give up held notifications (all, or ?id=).", None, (200, ref("OutboxRetryResult")), [("id", "One notification.")], False),
    ("post", "/v1/outbox/retry-failed", "Send every failed notification again.", None, (200, ref("OutboxRetryResult")), [], False),
    ("post", "/v1/agents", "Add an agent; without a password the answer has a one-time setup path.", ref("AgentBody"), (201, ref("AgentAdded")), [], False),
    ("get", "/v1/agents", "List the agents.", None, (200, array("Agent")), [], False),
    ("post", "/v1/agents/{email}/disable", "Disable an agent: their sessions end, their mail is a customer's again.", None, (200, ref("Agent")), [], False),
    ("post", "/v1/oauth/apps", "Register an OAuth 2.0 app (its client secret is stored sealed).", ref("OAuthAppBody"), (201, ref("OAuthAppView")), [], False),
    ("get", "/v1/oauth/apps", "List the OAuth 2.0 apps (never their secrets).", None, (200, array("OAuthAppView")), [], False),
    ("delete", "/v1/oauth/apps/{name}", "Remove an OAuth 2.0 app no channel or relay uses.", None, (200, ref("OAuthAppRemoved")), [], False),
    ("post", "/v1/oauth/flows", "Start a sign-in (device flow, or browser with PKCE) run by the server.", ref("OAuthFlowBody"), (201, ref("OAuthFlowStarted")), [], False),
    ("get", "/v1/oauth/flows/{id}", "Where a sign-in stands.", None, (200, ref("OAuthFlowProgressView")), [], False),
    ("post", "/v1/oauth/flows/{id}/code", "Hand a browser sign-in's authorization code and state to the server.", ref("OAuthFlowCodeBody"), (200, ref("OAuthFlowProgressView")), [], False),
    ("delete", "/v1/oauth/flows/{id}", "Cancel a sign-in.", None, (200, ref("OAuthFlowProgressView")), [], False),
    ("get", P + "/notifications", "A project's notification settings and templates.", None, (200, ref("ProjectNotifications")), [], False),
    ("patch", P + "/notifications", "Turn the acknowledgement of new requests on or off.", ref("NotificationSettingsBody"), (200, ref("ProjectNotifications")), [], False),
    ("put", P + "/notifications/{kind}/{language}", "Give the project its own template of one kind in one language (checked first).", ref("NotificationTemplateBody"), (200, ref("NotificationPreview")), [], False),
    ("get", P + "/notifications/{kind}/{language}/preview", "A template rendered with sample values.", None, (200, ref("NotificationPreview")), [], False),
    ("delete", P + "/notifications/{kind}/{language}", "Go back to the built-in template.", None, (200, ref("NotificationTemplateReset")), [], False),
    ("post", "/v1/webhooks", "Add a webhook; its signing secret is in this answer only.", ref("WebhookBody"), (201, ref("WebhookCreated")), [], False),
    ("get", "/v1/webhooks", "List the webhooks (never their secrets).", None, (200, array("WebhookView")), [], False),
    ("delete", "/v1/webhooks/{id}", "Remove a webhook and its deliveries.", None, (200, ref("WebhookRemoved")), [], False),
    ("post", "/v1/webhooks/{id}/disable", "Stop a webhook: no new deliveries; pending ones wait.", None, (200, ref("WebhookView")), [], False),
    ("post", "/v1/webhooks/{id}/enable", "Start a disabled webhook again; what waited is sent.", None, (200, ref("WebhookView")), [], False),
    ("get", "/v1/webhooks/{id}/deliveries", "A webhook's deliveries, newest first.", None, (200, array("WebhookDeliveryView")), [("limit", "At most this many.")], False),
    ("post", "/v1/webhooks/deliveries/{id}/retry", "Send a delivery again now.", None, (200, ref("WebhookRetried")), [], False),
    ("post", "/v1/backup", "Write a consistent backup of the store and the attachments to a directory.", ref("BackupBody"), (201, ref("BackupManifest")), [], True),
    ("post", "/v1/tokens", "Create an API token; its secret is in this answer only.", ref("APITokenBody"), (201, ref("APITokenCreated")), [], True),
    ("get", "/v1/tokens", "List the API tokens (never their secrets).", None, (200, array("APIToken")), [], True),
    ("delete", "/v1/tokens/{name}", "Revoke an API token.", None, (200, ref("APITokenCreatedRevoked")), [], True),
    ("get", "/metrics", "Prometheus metrics in the text exposition format.", None, (200, {"type": "string", "contentMediaType": "text/plain"}), [], True),
]

PARAMETER_TEXT = {
    "project": "A project key (case does not matter).",
    "address": "A channel's email address.",
    "key": "A request key such as SD-12.",
    "token": "A verification token.",
    "id": "A numeric id (a flow's id for /v1/oauth/flows).",
    "email": "An agent's email address.",
    "name": "A name.",
    "kind": "received, comment or resolved.",
    "language": "en or ja.",
}


def operation(method, path, summary, body, answer, query, socket_only):
    status, schema = answer
    parameters = [
        {"name": name, "in": "path", "required": True, "description": PARAMETER_TEXT.get(name, name),
         "schema": {"type": "string"}}
        for name in re.findall(r"\{(\w+)\}", path)
    ] + [{"name": name, "in": "query", "required": False, "description": text, "schema": {"type": "string"}}
         for name, text in query]
    media = "application/json"
    if path.endswith("/raw"):
        media = "message/rfc822"
    elif path == "/metrics":
        media = "text/plain"
    result = {
        "summary": summary,
        "tags": [path.split("/")[2] if path.startswith("/v1/") else "metrics"],
        "responses": {
            str(status): {"description": "Done.", "content": {media: {"schema": schema}}},
            "4XX": {"description": "A refusal, in one line.", "content": {"application/json": {"schema": ERROR}}},
            "5XX": {"description": "A failure of postdesk or of a server it called.",
                    "content": {"application/json": {"schema": ERROR}}},
        },
    }
    if parameters:
        result["parameters"] = parameters
    if body is not None:
        result["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if socket_only:
        result["x-postdesk-socket-only"] = True
        result["description"] = "Answered on the admin socket only, never on the HTTP listener."
    return result


def main():
    paths = {}
    for entry in OPERATIONS:
        method, path = entry[0], entry[1]
        paths.setdefault(path, {})[method] = operation(*entry)
    USED.add("ErrorBody")
    schemas, pending = {}, set(USED)
    while pending:
        name = pending.pop()
        if name in schemas:
            continue
        before = set(USED)
        schemas[name] = component(name)
        pending |= USED - before - set(schemas)
    document = {
        "openapi": "3.1.0",
        "info": {
            "title": "postdesk",
            "version": "1",
            "description": "The admin API of postdesk: on the admin socket (serve's Unix-domain socket) every "
            "operation; on the HTTP listener (serve --http-listen) the ones not marked x-postdesk-socket-only, "
            "to requests with an API token (Authorization: Bearer pd_…). Errors are {\"error\": \"one line\"}.",
        },
        "servers": [{"url": "http://127.0.0.1:8080", "description": "serve --http-listen 127.0.0.1:8080"}],
        "security": [{"apiToken": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {"apiToken": {"type": "http", "scheme": "bearer", "description": "postdesk token create"}},
            "schemas": dict(sorted(schemas.items())),
        },
    }
    target = ROOT / "docs" / "openapi.json"
    target.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    unresolved = sorted({json.dumps(s) for s in schemas.values() if "(see the source)" in json.dumps(s)})
    print(f"wrote {target.relative_to(ROOT)}: {len(OPERATIONS)} operations, {len(schemas)} schemas")
    for name, schema in sorted(schemas.items()):
        if "(see the source)" in json.dumps(schema) or not schema.get("properties", True):
            print(f"  check {name}: {json.dumps(schema)[:160]}", file=sys.stderr)


if __name__ == "__main__":
    main()
