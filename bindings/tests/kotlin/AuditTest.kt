// The audit log through the Kotlin bindings (issue 17, item 4): the app
// names the user, reports screens, and gives the reason an edit of a
// finalized response needs before it is finalized. Run from BindingsTest's
// main (scripts/test-bindings.sh compiles this file with it).

import java.io.File
import java.nio.file.Files
import org.enumera.ffi.EnumeraException

fun auditedForm(): File {
    val dir = Files.createTempDirectory("enumera-kt-audit").toFile()
    val file = File(dir, "au.json")
    file.writeText(
        """{"model_version": 1, "form_id": "au", "version": "1", "title": "Audited",
            "root_name": "data", "settings": {}, "children": [
            {"name": "name", "kind": {"kind": "question", "type": "text"}, "row": 2,
             "label": {"": "Name"}},
            {"name": "audit", "kind": {"kind": "question", "type": "audit"}, "row": 3,
             "parameters": {"track-changes": "true", "identify-user": "true",
                            "track-changes-reasons": "on-form-edit"}}]}"""
    )
    return file
}

val auditTests: List<Pair<String, () -> Unit>> = listOf(
    "an edit waits for its change reason; the user is named" to {
        val store = device()
        store.installFormFile(auditedForm().path)
        val interview = store.startInterview("au", null, null, false)
        check(interview.audited()) { "the form keeps an audit" }
        check(interview.userNeeded()) { "identify-user asks who fills it" }
        interview.setUser("enum-7")
        check(!interview.userNeeded()) { "named" }
        interview.show("/data/name")
        interview.answer("/data/name", "Ana")
        val first = interview.instanceId()
        interview.finalize()

        val edit = store.editResponse(first)
        check(edit.changeReasonNeeded()) { "an edit needs a reason" }
        edit.answer("/data/name", "Ana Maria")
        throws<EnumeraException.ChangeReasonRequired> { edit.finalize() }
        edit.setChangeReason("full name on the ID card")
        check(!edit.changeReasonNeeded()) { "given" }
        edit.finalize()
        eq(store.outbox(false).size, 2, "both versions in the outbox")
    },
)

/** Runs the audit tests as BindingsTest's main runs its own; the failures. */
fun runAuditTests(): Int {
    var failed = 0
    for ((name, test) in auditTests) {
        try {
            test()
            println("PASS $name")
        } catch (e: Throwable) {
            failed++
            println("FAIL $name: $e")
        }
    }
    return failed
}
