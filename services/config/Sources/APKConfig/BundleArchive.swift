import APKModel
import APKConversion

/// The generate-k8s-resources zip (§2.2): one `<metadata.name>.yaml` per resource, in bundle order.
enum BundleArchive {
    static func zip(_ bundle: CRBundle) throws(APKError) -> [UInt8] {
        var writer = ZipWriter()
        var used: Set<String> = []
        for resource in bundle.resources {
            // Names are unique per kind, not across kinds: a clash gets the kind as a prefix.
            var name = resource.fileName
            if used.contains(name) { name = "\(resource.kind.lowercased())-\(resource.fileName)" }
            var counter = 2
            while used.contains(name) {
                name = "\(resource.kind.lowercased())-\(resource.name)-\(counter).yaml"
                counter += 1
            }
            used.insert(name)
            do {
                try writer.addFile(name: name, contents: Array(resource.yaml().utf8))
            } catch {
                throw .generationFailed("cannot write \(name) into the archive: \(error.description)")
            }
        }
        return writer.finish()
    }

    /// `<name>-<version>.zip`, reduced to characters that need no quoting in `Content-Disposition`.
    static func fileName(name: String, version: String) -> String {
        let raw = "\(name)-\(version).zip"
        return String(
            raw.unicodeScalars.map { scalar in
                switch scalar {
                case "a"..."z", "A"..."Z", "0"..."9", ".", "-", "_": Character(scalar)
                default: "_"
                }
            })
    }
}
