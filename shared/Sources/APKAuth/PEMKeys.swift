package import APKModel
import Crypto
import CryptoExtras
import Foundation

// Public keys from PEM text, for TokenIssuers whose signatures are validated with a certificate (contract §6
// `signatureValidation.certificate`) instead of a JWKS URL. Only what a verifier needs: the certificate's
// SubjectPublicKeyInfo is taken as it is (no chain, no validity period: the operator vouches for the certificate by
// configuring it, as in the reference, which builds a local JWKS from it).
extension VerificationKey {
    /// Every usable key of PEM text: `CERTIFICATE` blocks (X.509, their public key) and `PUBLIC KEY` blocks
    /// (SubjectPublicKeyInfo), RSA ≥ 2048 bits or P-256. Nil when the text holds no such key (other blocks, such as
    /// private keys, are never read).
    package static func keys(fromPEM text: String) -> [VerificationKey]? {
        guard text.utf8.count <= 256 * 1024 else { return nil }
        var keys: [VerificationKey] = []
        for block in PEMBlock.blocks(in: text) {
            let spki: [UInt8]?
            switch block.label {
            case "CERTIFICATE": spki = DER.subjectPublicKeyInfo(ofCertificate: block.der)
            case "PUBLIC KEY": spki = block.der
            default: spki = nil
            }
            guard let spki, let key = VerificationKey(subjectPublicKeyInfo: spki) else { continue }
            keys.append(key)
        }
        return keys.isEmpty ? nil : keys
    }

    /// A key from DER SubjectPublicKeyInfo (RSA ≥ 2048 bits, or P-256).
    init?(subjectPublicKeyInfo der: [UInt8]) {
        if let rsa = try? _RSA.Signing.PublicKey(derRepresentation: der) {
            guard rsa.keySizeInBits >= 2048 else { return nil }
            self = .rs256(rsa)
        } else if let ec = try? P256.Signing.PublicKey(derRepresentation: der) {
            self = .es256(ec)
        } else {
            return nil
        }
    }

    /// The public JWK of this key without a `kid` (so that `jwt_authn` and the evaluator try it for any token of the
    /// issuer, whatever `kid` the token names).
    package var publicJWK: JSONValue? {
        switch self {
        case .rs256(let key):
            guard var jwk = key.jwk(kid: "")?.objectValue else { return nil }
            jwk["kid"] = nil
            return .object(jwk)
        case .es256(let key):
            let raw = Array(key.rawRepresentation)
            guard raw.count == 64 else { return nil }
            return [
                "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256",
                "x": .string(Base64URL.encode(Array(raw[0..<32]))), "y": .string(Base64URL.encode(Array(raw[32..<64]))),
            ]
        }
    }

    /// A JWKS document (`{"keys":[…]}`) of `keys`, compact JSON with sorted keys.
    package static func jwksDocument(_ keys: [VerificationKey]) -> String {
        DocumentWriter.json(["keys": .array(keys.compactMap(\.publicJWK))])
    }
}

/// One `-----BEGIN <label>-----` … `-----END <label>-----` block of PEM text, base64-decoded.
struct PEMBlock {
    var label: String
    var der: [UInt8]

    static func blocks(in text: String) -> [PEMBlock] {
        var blocks: [PEMBlock] = []
        var label: String?
        var body = ""
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("-----BEGIN "), line.hasSuffix("-----") {
                label = String(line.dropFirst(11).dropLast(5))
                body = ""
            } else if line.hasPrefix("-----END "), line.hasSuffix("-----") {
                if let open = label, String(line.dropFirst(9).dropLast(5)) == open,
                    let data = Data(base64Encoded: body)
                {
                    blocks.append(PEMBlock(label: open, der: Array(data)))
                }
                label = nil
            } else if label != nil {
                body += line
            }
        }
        return blocks
    }
}

/// The few DER (X.690) rules needed to find a certificate's public key: tag, definite length, content.
enum DER {
    /// One element: its tag, the range of its content and the range of the whole element in the input.
    struct Element {
        var tag: UInt8
        var content: Range<Int>
        var whole: Range<Int>
    }

    /// The element starting at `start` within `bytes[..<end]`; nil when it is malformed (indefinite or overlong
    /// lengths, truncation, multi-byte tags).
    static func element(_ bytes: [UInt8], at start: Int, end: Int) -> Element? {
        guard start + 2 <= end else { return nil }
        let tag = bytes[start]
        guard tag & 0x1F != 0x1F else { return nil }  // high tag numbers do not occur in what is read here
        var index = start + 1
        var length = Int(bytes[index])
        index += 1
        if length & 0x80 != 0 {
            let count = length & 0x7F
            guard (1...4).contains(count), index + count <= end else { return nil }
            length = 0
            for byte in bytes[index..<(index + count)] { length = length << 8 | Int(byte) }
            index += count
        }
        guard length <= end - index else { return nil }
        return Element(tag: tag, content: index..<(index + length), whole: start..<(index + length))
    }

    /// The elements inside a constructed element's content.
    static func children(_ bytes: [UInt8], of parent: Element) -> [Element]? {
        var children: [Element] = []
        var index = parent.content.lowerBound
        while index < parent.content.upperBound {
            guard let child = element(bytes, at: index, end: parent.content.upperBound) else { return nil }
            children.append(child)
            index = child.whole.upperBound
        }
        return children
    }

    /// `Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serialNumber, signature, issuer,
    /// validity, subject, subjectPublicKeyInfo, … }, … }` (RFC 5280 §4.1): the subjectPublicKeyInfo element.
    static func subjectPublicKeyInfo(ofCertificate bytes: [UInt8]) -> [UInt8]? {
        guard let certificate = element(bytes, at: 0, end: bytes.count), certificate.tag == 0x30,
            let tbs = children(bytes, of: certificate)?.first, tbs.tag == 0x30,
            var fields = children(bytes, of: tbs)
        else { return nil }
        if fields.first?.tag == 0xA0 { fields.removeFirst() }  // explicit version
        guard fields.count >= 6, fields[5].tag == 0x30 else { return nil }
        return Array(bytes[fields[5].whole])
    }
}
