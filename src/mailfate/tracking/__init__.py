"""What happened to messages, told for people: timelines, explanations, next steps."""
