package org.enumera.sample

import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.Button
import androidx.compose.material3.FilterChip
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import androidx.lifecycle.viewmodel.compose.viewModel
import kotlinx.coroutines.launch
import org.enumera.android.InterviewFlow
import org.enumera.ffi.Question
import org.enumera.ffi.Screen

class MainActivity : ComponentActivity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContent { MaterialTheme { App() } }
    }
}

@Composable
fun App(vm: SampleViewModel = viewModel()) {
    val interview by vm.interview.collectAsState()
    val current = interview
    if (current != null) {
        InterviewScreen(current, onClose = vm::closeInterview)
    } else {
        HomeScreen(vm)
    }
}

@Composable
fun HomeScreen(vm: SampleViewModel) {
    val responses by vm.responses.collectAsState()
    val message by vm.message.collectAsState()
    var token by remember { mutableStateOf("") }
    Column(Modifier.fillMaxSize().padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        Text("Enumera sample", style = MaterialTheme.typography.headlineSmall)
        Button(onClick = vm::startInterview) { Text("New follow-up interview") }
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            OutlinedTextField(token, { token = it }, label = { Text("Device token") })
            Button(onClick = { vm.sync(token) }) { Text("Sync") }
        }
        message?.let { Text(it) }
        LazyColumn {
            items(responses) { r ->
                Text("${r.formId}  ${r.state}  ${r.instanceId.takeLast(8)}")
            }
        }
    }
}

@Composable
fun InterviewScreen(flow: InterviewFlow, onClose: () -> Unit) {
    val state by flow.state.collectAsState()
    val scope = rememberCoroutineScope()
    Column(Modifier.fillMaxSize().padding(16.dp), verticalArrangement = Arrangement.spacedBy(12.dp)) {
        val p = state.progress
        LinearProgressIndicator(progress = { if (p.asked == 0UL) 0f else p.answered.toFloat() / p.asked.toFloat() })
        when (val screen = state.screen) {
            is Screen.Question -> QuestionView(screen.question) { v -> scope.launch { flow.answer(screen.question.reference, v) } }
            is Screen.FieldList -> {
                screen.label?.let { Text(it, style = MaterialTheme.typography.titleMedium) }
                screen.questions.forEach { q -> QuestionView(q) { v -> scope.launch { flow.answer(q.reference, v) } } }
            }
            is Screen.AddRepeat -> {
                Text("Add another ${screen.label}? (${screen.count} so far)")
                Button(onClick = { scope.launch { flow.addRepeat(screen.reference); flow.next() } }) { Text("Add") }
            }
            null -> Text("Nothing to ask.")
        }
        state.error?.let { Text(it, color = MaterialTheme.colorScheme.error) }
        state.blockers.forEach { Text("${it.reference}: ${it.text}", color = MaterialTheme.colorScheme.error) }
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            Button(onClick = { scope.launch { flow.back() } }, enabled = !state.atStart) { Text("Back") }
            if (state.atEnd) {
                Button(onClick = { scope.launch { flow.finalize() } }) { Text("Finalize") }
            } else {
                Button(onClick = { scope.launch { flow.next() } }) { Text("Next") }
            }
        }
        if (state.finalized) {
            Text("Finalized and queued for sync.")
            Button(onClick = onClose) { Text("Done") }
        }
    }
}

@Composable
fun QuestionView(q: Question, onAnswer: (String) -> Unit) {
    Text(q.label ?: q.reference, style = MaterialTheme.typography.titleMedium)
    q.hint?.let { Text(it, style = MaterialTheme.typography.bodySmall) }
    if (q.choices.isNotEmpty()) {
        val multi = q.questionType == "select_multiple"
        val picked = q.value.split(' ').filter { it.isNotEmpty() }.toSet()
        q.choices.forEach { c ->
            FilterChip(
                selected = c.value in picked,
                onClick = {
                    onAnswer(
                        if (!multi) c.value
                        else (if (c.value in picked) picked - c.value else picked + c.value).joinToString(" ")
                    )
                },
                label = { Text(c.label) },
            )
        }
    } else {
        var text by remember(q.reference) { mutableStateOf(q.value) }
        OutlinedTextField(text, { text = it }, enabled = !q.readonly, singleLine = q.appearance != "multiline")
        Button(onClick = { onAnswer(text) }) { Text("Save") }
    }
    q.issue?.let { Text(it.text, color = MaterialTheme.colorScheme.error) }
}
