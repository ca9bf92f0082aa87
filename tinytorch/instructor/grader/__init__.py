"""What runs on the grader's side, around nbgrader: the sandbox, execution, the judging step, parallel
grading, the merge into the gradebook, feedback and grade export. No student code runs in these processes."""
