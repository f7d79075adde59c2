"""Lantern Cave: a tiny deterministic text adventure for sforge's game mode (3 points).

Take the lamp (1), find the key in the dark tunnel (1), unlock the vault and take the treasure
(1). Verbs: look, inventory, north/south/east/west (or n/s/e/w), take <thing>, unlock door.
"""

ROOMS = {
    "entrance": "You stand at the mouth of a cave. A tunnel leads north.",
    "tunnel": "A damp tunnel. The cave mouth is south; a heavy door is east.",
    "vault": "A small vault glittering with dust. The tunnel is west.",
}
EXITS = {
    "entrance": {"north": "tunnel"},
    "tunnel": {"south": "entrance", "east": "vault"},
    "vault": {"west": "tunnel"},
}
SHORT = {"n": "north", "s": "south", "e": "east", "w": "west"}


class Game:
    """One play of Lantern Cave."""

    def __init__(self):
        self.max_score = 3
        self.reset()

    def reset(self):
        self.room, self.score, self.done = "entrance", 0, False
        self.items = {"lamp": "entrance", "key": "tunnel", "treasure": "vault"}
        self.unlocked = False
        return "LANTERN CAVE\n" + self.look()

    def carrying(self, item):
        return self.items.get(item) == "inventory"

    def visible(self):
        if self.room == "tunnel" and not self.carrying("lamp"):
            return []
        return sorted(i for i, where in self.items.items() if where == self.room)

    def look(self):
        if self.room == "tunnel" and not self.carrying("lamp"):
            return "It is pitch dark. You might stumble back south."
        text = ROOMS[self.room]
        for item in self.visible():
            text += f"\nThere is a {item} here."
        return text

    def step(self, action):
        words = action.strip().lower().split()
        if not words:
            return "Beg pardon?"
        verb = SHORT.get(words[0], words[0])
        if verb in ("north", "south", "east", "west"):
            return self.go(verb)
        if verb == "look":
            return self.look()
        if verb in ("inventory", "i"):
            held = sorted(i for i, where in self.items.items() if where == "inventory")
            return "You carry: " + (", ".join(held) if held else "nothing")
        if verb in ("take", "get") and len(words) > 1:
            return self.take(words[-1])
        if verb == "unlock" and self.room == "tunnel" and self.carrying("key"):
            self.unlocked = True
            return "The key turns. The door swings open."
        return "Nothing happens."

    def go(self, direction):
        target = EXITS[self.room].get(direction)
        if target is None:
            return "You cannot go that way."
        if self.room == "tunnel" and not self.carrying("lamp") and direction != "south":
            return "You bump into a wall in the dark."
        if target == "vault" and not self.unlocked:
            return "The door is locked."
        self.room = target
        return self.look()

    def take(self, item):
        if item not in self.visible():
            return f"There is no {item} here."
        self.items[item] = "inventory"
        self.score += 1
        if item == "treasure":
            self.done = True
            return "You take the treasure. You have won!"
        return f"Taken: {item}."
