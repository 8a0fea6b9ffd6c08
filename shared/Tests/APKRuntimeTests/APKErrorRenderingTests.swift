import APKModel
import APKRuntime
import Hummingbird
import Testing

@Suite struct APKErrorRenderingTests {
    @Test func plainErrorBody() {
        let error = APKError(
            code: 909052, status: 500, message: "Error while generating k8s artifact", detail: "boom",
            moreInfo: [("b", "2"), ("a", "1")])
        #expect(
            DocumentWriter.json(error.jsonBody)
                == #"{"code":909052,"message":"Error while generating k8s artifact","description":"boom","moreInfo":{"b":"2","a":"1"}}"#)
    }

    @Test func unclassifiedMatchesContract() {
        #expect(
            DocumentWriter.json(APKError.unclassified.jsonBody)
                == #"{"code":900900,"message":"Internal Server Error","description":"Internal Server Error","moreInfo":{}}"#)
        #expect(APKError.unclassified.status == 500)
    }

    @Test func issuesAddErrorsArray() {
        let error = APKError.invalidApkConf([
            ValidationIssue(pointer: "#/corsConfiguration/corsConfigurationEnabled", message: "expected type: Boolean, found: String")
        ])
        let json = DocumentWriter.json(error.jsonBody)
        #expect(json.hasPrefix(#"{"code":909029,"message":"Invalid apk-conf provided","description":"#))
        #expect(
            json.contains(
                ##""moreInfo":{"expected type: Boolean, found: String":"#/corsConfiguration/corsConfigurationEnabled: expected type: Boolean, found: String"}"##
            ))
        #expect(
            json.hasSuffix(
                ##""errors":[{"pointer":"#/corsConfiguration/corsConfigurationEnabled","message":"expected type: Boolean, found: String"}]}"##
            ))
    }

    @Test func definitionProblemShape() {
        let error = APKError.invalidDefinition([DefinitionProblem(message: "bad", description: "unknown field x")])
        #expect(
            DocumentWriter.json(error.jsonBody)
                == #"{"code":90091,"message":"Invalid API Definition","error":[{"code":"90092","message":"bad","description":"unknown field x"}]}"#)
        #expect(DocumentWriter.json(APKError.invalidAPIType.jsonBody) == #"{"code":90091,"message":"Invalid API Type"}"#)
    }

    @Test func responseCarriesStatusAndContentType() {
        let response = APKError.payloadTooLarge(limit: 10).response()
        #expect(response.status.code == 413)
        #expect(response.headers[.contentType] == "application/json")
    }
}
